package main

import (
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

func printVersion(stdout io.Writer) {
	fmt.Fprintf(stdout, "cognito-resend %s\n", version)
	bi, ok := debug.ReadBuildInfo()
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
