package main

import (
	"context"
	"encoding/json"

	"github.com/urfave/cli/v3"
)

// newCmdReportSummary is `cognito-resend report summary R…`.
func newCmdReportSummary(ios streams) *cli.Command {
	return &cli.Command{
		Name:      "summary",
		Usage:     "users, final status per user, counts by status and error code, attempts, time span, sends/s",
		UsageText: "cognito-resend report summary [--json] REPORT...",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the summary as one JSON object (keys: docs/reports.md in the source repository)"},
		},
		Action: func(_ context.Context, cmd *cli.Command) error {
			set, _, err := readReports(cmd, ios.stderr, "summary")
			if err != nil {
				return err
			}
			sum := set.Summary()
			if cmd.Bool("json") {
				enc := json.NewEncoder(ios.stdout)
				enc.SetIndent("", "  ")
				return writeErr(enc.Encode(sum))
			}
			return writeErr(sum.WriteTable(ios.stdout))
		},
	}
}
