package main

import (
	"slices"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/config"
)

// envNames is every environment variable a flag of cmd or of any of its commands reads,
// plus the secret (which has no flag): what config.CheckEnv knows.
func envNames(cmd *cli.Command) []string {
	out := []string{config.EnvClientSecret}
	var walk func(*cli.Command)
	walk = func(c *cli.Command) {
		for _, f := range c.Flags {
			if ef, ok := f.(interface{ GetEnvVars() []string }); ok {
				out = append(out, ef.GetEnvVars()...)
			}
		}
		for _, sub := range c.Commands {
			walk(sub)
		}
	}
	walk(cmd)
	slices.Sort(out)
	return slices.Compact(out)
}
