package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v3"
)

// Positional arguments. run, enqueue, config print, ledger init and version take none:
// urfave/cli would hand them to an action that ignores them, so `run users.csv` (no
// --csv) or `--csv /tmp/glob-*.csv` (the shell expands it to several files: the first is
// --csv's, the rest are arguments) would run on something else than the operator meant.

// takesNoArgs names the commands whose positional arguments are a usage error.
var takesNoArgs = map[string]bool{"run": true, "enqueue": true, "print": true, "init": true, "version": true}

// onlyOnce are the flags a repeat of which is a mistake (the last would win silently).
var onlyOnce = map[string]bool{"csv": true, "report": true, "user-pool-id": true, "sqs-queue-url": true}

// refuseStrayArgs wraps the action of cmd (a command of takesNoArgs) to refuse
// positional arguments, and marks its onlyOnce flags.
func refuseStrayArgs(cmd *cli.Command) {
	for _, f := range cmd.Flags {
		if s, ok := f.(*cli.StringFlag); ok && onlyOnce[s.Name] {
			s.OnlyOnce = true
		}
	}
	action := cmd.Action
	cmd.Action = func(ctx context.Context, c *cli.Command) error {
		if args := c.Args().Slice(); len(args) > 0 {
			return usageErr(fmt.Errorf("%s; see '%s --help'", strayArgs(c, args), c.FullName()))
		}
		return action(ctx, c)
	}
}

// strayArgs says what is wrong with args, and the likely fix.
func strayArgs(c *cli.Command, args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	name := strings.TrimPrefix(c.FullName(), c.Root().Name+" ")
	msg := fmt.Sprintf("%s takes no arguments, got %s", name, strings.Join(quoted, " "))
	hasCSV := false
	for _, f := range c.Flags {
		if f.Names()[0] == "csv" {
			hasCSV = true
		}
	}
	files := 0
	for _, a := range args {
		if _, err := os.Stat(a); err == nil || strings.HasSuffix(strings.ToLower(a), ".csv") {
			files++
		}
	}
	switch {
	case !hasCSV || files == 0:
		return msg + ": every option is --name value"
	case c.IsSet("csv") || len(args) > 1:
		return msg + ": the shell expanded a glob into several files? give one file to --csv"
	}
	return msg + fmt.Sprintf(" (did you mean --csv %s?)", args[0])
}
