package main

import (
	"cmp"
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/campaign"
)

// newCmdConfig is `cognito-resend config print`.
func newCmdConfig(ios streams) *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "configuration tools",
		Commands: []*cli.Command{{
			Name:               "print",
			Usage:              "print the effective configuration (defaults < --config file < environment < flags), secret redacted",
			UsageText:          "cognito-resend config print [run options]",
			Flags:              runFlags(),
			CustomHelpTemplate: groupedHelpTemplate(""),
			Action: func(ctx context.Context, cmd *cli.Command) error {
				return configPrint(ctx, cmd, ios.stdout, ios.getenv)
			},
		}},
	}
}

// configPrint shows the effective configuration (defaults < file < env < flags) as
// YAML. The secret is never shown, only whether one is set. The region is the one a run
// would use, resolved through the SDK's chain when no option sets it, with its origin.
func configPrint(ctx context.Context, cmd *cli.Command, stdout io.Writer, getenv func(string) string) error {
	cfg, err := buildConfig(cmd, getenv)
	if err != nil {
		return usageErr(err)
	}
	invalid := cfg.Validate()
	region := "# region: "
	var target campaign.Target
	if invalid == nil {
		target, invalid = campaign.ResolveTarget(ctx, cfg)
	}
	switch origin := regionOrigin(cmd, cfg, getenv); {
	case target.Region != "":
		cfg.Region = target.Region
		region += fmt.Sprintf("%q (from %s)", target.Region, cmp.Or(origin, target.RegionSource))
		if target.Endpoint != "" {
			region += "; Cognito endpoint " + target.Endpoint
		}
		if target.Override {
			region += " (endpoint override)"
		}
	case cfg.Region != "":
		region += fmt.Sprintf("%q (from %s)", cfg.Region, origin)
	default:
		region += "not set (--region, COGNITO_RESEND_REGION, the config file, AWS_REGION, AWS_DEFAULT_REGION or the AWS profile's region)"
	}
	b, err := cfg.YAML()
	if err != nil {
		return err
	}
	secret := "not set"
	if cfg.ClientSecret != "" {
		secret = "set (" + cfg.ClientSecret.String() + ")"
	}
	rotation := "off"
	if n := cfg.ReportRotateSize(); n > 0 {
		rotation = fmt.Sprintf("at %d bytes, keeping %d rotated pairs", n, cfg.ReportKeep)
	}
	fmt.Fprintf(stdout, "# effective configuration: flags > environment > --config file > defaults\n# client secret: %s\n# report rotation: %s\n%s\n%s",
		secret, rotation, region, b)
	if invalid != nil {
		fmt.Fprintf(stdout, "# NOT VALID: %v\n", invalid)
		return usageErr(invalid)
	}
	return nil
}

// regionOrigin says which option set cfg.Region: the flag, its environment variable, or
// the config file ("" when none did: the SDK's chain decides).
func regionOrigin(cmd *cli.Command, cfg config.Config, getenv func(string) string) string {
	switch {
	case cfg.Region == "":
		return ""
	case cmd.IsSet("region") && getenv(envFor("region")) == cfg.Region:
		return envFor("region") // or the flag with the same value: the same answer
	case cmd.IsSet("region"):
		return "--region"
	}
	return "config file " + cmd.String("config")
}

// buildConfig layers the configuration without validating it: defaults, then the
// --config file, then what was set through flags or the environment (urfave/cli lets a
// flag win over its environment variable), then the secret from env or file.
func buildConfig(cmd *cli.Command, getenv func(string) string) (config.Config, error) {
	cfg := config.Default()
	if path := cmd.String("config"); path != "" {
		if err := cfg.LoadFile(path); err != nil {
			return cfg, err
		}
	}
	set, err := setFlagsYAML(cmd)
	if err != nil {
		return cfg, err
	}
	if err := cfg.ApplyFlags(set); err != nil {
		return cfg, err
	}
	setOrigins(cmd, &cfg, getenv)
	if err := cfg.LoadSecret(getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// setOrigins records where each given option came from (config.Config.Origin): a flag
// set through its environment variable (or on the command line with the same value:
// the same answer) is the variable; one left unset, a config file's key, the file.
func setOrigins(cmd *cli.Command, cfg *config.Config, getenv func(string) string) {
	for _, f := range cmd.Flags {
		name := f.Names()[0]
		switch {
		case notConfig[name] || !cfg.Given(name):
		case !cmd.IsSet(name):
			cfg.SetOrigin(name, "the config file "+cmd.String("config"))
		case getenv(envFor(name)) != "" && getenv(envFor(name)) == fmt.Sprint(cmd.Value(name)):
			cfg.SetOrigin(name, envFor(name))
		}
	}
}
