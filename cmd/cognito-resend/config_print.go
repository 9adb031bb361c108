package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/config"
)

// newCmdConfig is `cognito-resend config print`.
func newCmdConfig(ios streams) *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "configuration tools",
		Commands: []*cli.Command{{
			Name:      "print",
			Usage:     "print the effective configuration (defaults < --config file < environment < flags), secret redacted",
			UsageText: "cognito-resend config print [run options]",
			Flags:     runFlags(),
			Action: func(_ context.Context, cmd *cli.Command) error {
				return configPrint(cmd, ios.stdout, ios.getenv)
			},
		}},
	}
}

// configPrint shows the effective configuration (defaults < file < env < flags) as
// YAML. The secret is never shown, only whether one is set.
func configPrint(cmd *cli.Command, stdout io.Writer, getenv func(string) string) error {
	cfg, err := buildConfig(cmd, getenv)
	if err != nil {
		return usageErr(err)
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
	fmt.Fprintf(stdout, "# effective configuration: flags > environment > --config file > defaults\n# client secret: %s\n# report rotation: %s\n%s", secret, rotation, b)
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stdout, "# NOT VALID: %v\n", err)
		return usageErr(err)
	}
	return nil
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
	if err := cfg.Apply(set); err != nil {
		return cfg, err
	}
	if err := cfg.LoadSecret(getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}
