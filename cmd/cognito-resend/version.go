package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/urfave/cli/v3"
)

// newCmdVersion is `cognito-resend version`.
func newCmdVersion(ios streams) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version and build information",
		Action: func(context.Context, *cli.Command) error {
			printVersion(ios.stdout)
			return nil
		},
	}
}

// printVersion shows the stamped version, commit and commit date; without stamps (a
// plain go build) the commit and date come from the build's VCS info, if any.
func printVersion(stdout io.Writer) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	c, d := commit, date
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && c == "":
			c = s.Value
		case s.Key == "vcs.time" && d == "":
			d = s.Value
		}
	}
	fmt.Fprintf(stdout, "cognito-resend %s\ncommit: %s\ndate: %s\n", version, cmp.Or(c, "unknown"), cmp.Or(d, "unknown"))
	if !ok {
		return
	}
	fmt.Fprintf(stdout, "go: %s\n", bi.GoVersion)
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH", "CGO_ENABLED":
			fmt.Fprintf(stdout, "%s: %s\n", s.Key, s.Value)
		}
	}
}
