package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/words"
)

// newCmdReportUsers is `cognito-resend report users --status S,… R…`.
func newCmdReportUsers(ios streams) *cli.Command {
	return &cli.Command{
		Name:      "users",
		Usage:     "write the users whose final status is one of --status as a CSV that run --csv reads",
		UsageText: "cognito-resend report users --status failed,limit_exceeded [-o users.csv] REPORT...",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "status", Required: true, Usage: "final statuses to select, comma separated or repeated (any status, e.g. failed,limit_exceeded)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the CSV here (mode 0600; never over a file) instead of standard output"},
		},
		Action: func(_ context.Context, cmd *cli.Command) error {
			var statuses []job.Status
			for _, v := range cmd.StringSlice("status") {
				for s := range strings.SplitSeq(v, ",") {
					if s = strings.TrimSpace(s); s != "" {
						statuses = append(statuses, job.Status(s))
					}
				}
			}
			if len(statuses) == 0 {
				return usageErr(fmt.Errorf("--status: give at least one status (e.g. failed,limit_exceeded)"))
			}
			set, paths, err := readReports(cmd, ios.stderr, "users")
			if err != nil {
				return err
			}
			// A status this version does not write is a typo unless the reports hold it
			// (written by a newer version).
			sum := set.Summary()
			for _, st := range statuses {
				if !st.Known() && sum.Statuses[st] == 0 {
					msg := fmt.Sprintf("--status: %q is not a status", st)
					if near := config.Closest(string(st), knownStatusList()); near != "" {
						msg += fmt.Sprintf(" (did you mean %s?)", near)
					}
					return usageErr(fmt.Errorf("%s; the statuses: %s", msg, knownStatuses()))
				}
			}
			w, closeOut, err := createOutput("users", cmd.String("output"), paths, ios.stdout)
			if err != nil {
				return err
			}
			n, err := set.WriteUsersCSV(w, statuses)
			if err := writeErr(err); err != nil {
				_ = closeOut(err)
				return err
			}
			fmt.Fprintf(ios.stderr, "cognito-resend: %s\n", words.Count(int64(n), "user"))
			return writeErr(closeOut(nil))
		},
	}
}

func knownStatuses() string { return strings.Join(knownStatusList(), ", ") }

func knownStatusList() []string {
	s := make([]string, len(job.Statuses))
	for i, st := range job.Statuses {
		s[i] = string(st)
	}
	return s
}
