package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/worker/reportset"
)

// newCmdReportHTML is `cognito-resend report html R… -o campaign.html`.
func newCmdReportHTML(ios streams) *cli.Command {
	return &cli.Command{
		Name:      "html",
		Usage:     "render the reports as one self-contained HTML page (no script, loads nothing)",
		UsageText: "cognito-resend report html -o campaign.html [--title TEXT] REPORT...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "the page to write (mode 0600; never over a file); - for standard output"},
			&cli.StringFlag{Name: "title", Value: "cognito-resend campaign", Usage: "the page's title"},
		},
		Action: func(_ context.Context, cmd *cli.Command) error {
			if cmd.String("output") == "" {
				return usageErr(errors.New("-o: name the page to write (e.g. -o campaign.html), or - for standard output"))
			}
			set, paths, err := readReports(cmd, ios.stderr, "html")
			if err != nil {
				return err
			}
			w, closeOut, err := createOutput("html", cmd.String("output"), paths, ios.stdout)
			if err != nil {
				return err
			}
			err = set.WriteHTML(w, reportset.PageOptions{Title: cmd.String("title"), Generator: "cognito-resend " + version})
			if err := writeErr(errors.Join(err, closeOut(err))); err != nil {
				return err
			}
			if out := cmd.String("output"); out != "-" {
				fmt.Fprintf(ios.stderr, "cognito-resend: wrote %s\n", out)
			}
			return nil
		},
	}
}
