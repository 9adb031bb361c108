package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/config"
)

// A usage mistake is one line on stderr and exit 2: what is wrong, the closest name
// when there is one, and where the help is. urfave/cli's default prints "Incorrect
// Usage", the whole help, and the error again.

// wireUsageErrors gives every command of the tree the one-line usage errors, and every
// command that only holds subcommands the action that reports an unknown one.
func wireUsageErrors(root *cli.Command) {
	_ = root.Walk(func(c *cli.Command) error {
		c.OnUsageError = onUsageError
		if len(c.Commands) > 0 && c.Action == nil {
			c.Action = groupAction
		}
		if len(c.Commands) == 0 && takesNoArgs[c.Name] {
			refuseStrayArgs(c)
		}
		return nil
	})
}

func onUsageError(_ context.Context, cmd *cli.Command, err error, _ bool) error {
	if len(cmd.Commands) > 0 && cmd.Args().Present() {
		// cognito-resend enqeue --csv x: parsing went on past the unknown command; it,
		// not the flag, is the mistake.
		return unknownCommand(cmd, cmd.Args().First())
	}
	return usageErr(fmt.Errorf("%s; see '%s --help'", describeParseError(cmd, err), cmd.FullName()))
}

// The parse errors of urfave/cli v3 (TestUsageErrorsOneLine pins them).
const (
	notDefinedPrefix  = "flag provided but not defined: -"
	needsValuePrefix  = "flag needs an argument: "
	invalidValueStart = "invalid value "
)

var (
	invalidValueRest = regexp.MustCompile(`^ for flag -([^:]+): `)
	duplicateFlag    = regexp.MustCompile(` for flag -([^:]+): can't duplicate this flag$`) // an onlyOnce flag given twice
	envValueRest     = regexp.MustCompile(`^ as \S+ value from environment variable "([^"]+)" for flag ([^:]+): `)
)

// describeParseError says what is wrong with the command line, in the words of the
// config file's errors.
func describeParseError(cmd *cli.Command, err error) string {
	msg := err.Error()
	if m := duplicateFlag.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s given twice: give it once (the shell expanded a glob into several files?)", dashed(m[1]))
	}
	if name, ok := strings.CutPrefix(msg, notDefinedPrefix); ok {
		return unknownFlag(cmd, name)
	}
	if typed, ok := strings.CutPrefix(msg, needsValuePrefix); ok {
		if w := config.Want(strings.TrimLeft(typed, "-")); w != "" {
			return fmt.Sprintf("%s needs a value: %s", typed, w)
		}
		return typed + " needs a value"
	}
	if rest, ok := strings.CutPrefix(msg, invalidValueStart); ok {
		if q, err := strconv.QuotedPrefix(rest); err == nil {
			if m := invalidValueRest.FindStringSubmatch(rest[len(q):]); m != nil {
				return fmt.Sprintf("%s: want %s, got %s", dashed(m[1]), wantOr(m[1]), q)
			}
		}
	}
	return msg
}

// describeSourceError rewrites urfave/cli's error for an environment variable whose
// value doesn't parse ("could not parse "fast" as float64 value from environment
// variable ..."), which it returns without OnUsageError.
func describeSourceError(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "could not parse ")
	if !ok {
		return "", false
	}
	q, qerr := strconv.QuotedPrefix(rest)
	if qerr != nil {
		return "", false
	}
	m := envValueRest.FindStringSubmatch(rest[len(q):])
	if m == nil {
		return "", false
	}
	return fmt.Sprintf("%s (sets %s): want %s, got %s", m[1], dashed(m[2]), wantOr(m[2]), q), true
}

// wantOr is config.Want, or "a valid value" for a flag that doesn't set an option.
func wantOr(flag string) string {
	if w := config.Want(flag); w != "" {
		return w
	}
	return "a valid value"
}

func unknownFlag(cmd *cli.Command, name string) string {
	if why := config.SecretRefusal(name); why != "" {
		return dashed(name) + ": " + why
	}
	var names []string
	for _, f := range cmd.VisibleFlags() {
		names = append(names, f.Names()...)
	}
	if s := config.Closest(name, names); s != "" {
		return fmt.Sprintf("unknown flag %s (did you mean %s?)", dashed(name), dashed(s))
	}
	// A subcommand's option given before the subcommand (cognito-resend --csv x run).
	for _, sub := range cmd.Commands {
		for _, f := range sub.VisibleFlags() {
			for _, n := range f.Names() {
				if n == name {
					return fmt.Sprintf("%s is an option of '%s'; put it after the command", dashed(name), sub.FullName())
				}
			}
		}
	}
	return "unknown flag " + dashed(name)
}

func dashed(name string) string {
	if utf8.RuneCountInString(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// groupAction runs a command that only holds subcommands (the root, config): alone it
// shows its help, `help [COMMAND]` shows a command's, anything else is an unknown
// command.
func groupAction(ctx context.Context, cmd *cli.Command) error {
	args := cmd.Args().Slice()
	showHelp := func() error {
		if cmd.Root() == cmd {
			return cli.ShowRootCommandHelp(cmd)
		}
		return cli.ShowSubcommandHelp(cmd)
	}
	switch {
	case len(args) == 0:
		return showHelp()
	case args[0] == "help" || args[0] == "h":
		if len(args) == 1 {
			return showHelp()
		}
		if cmd.Command(args[1]) != nil {
			return cli.ShowCommandHelp(ctx, cmd, args[1])
		}
		return unknownCommand(cmd, args[1])
	}
	return unknownCommand(cmd, args[0])
}

func unknownCommand(cmd *cli.Command, name string) error {
	path := strings.TrimSpace(strings.TrimPrefix(cmd.FullName(), cmd.Root().Name))
	if path != "" {
		path += " " // config prnt
	}
	var names []string
	for _, c := range cmd.VisibleCommands() {
		names = append(names, c.Names()...)
	}
	msg := "unknown command " + path + name
	if s := config.Closest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %s%s?)", path, s)
	}
	return usageErr(fmt.Errorf("%s; see '%s --help'", msg, cmd.FullName()))
}

// usageMessage is the text run() prints for an error urfave/cli returned itself.
func usageMessage(err error) string {
	if s, ok := describeSourceError(err); ok {
		return s
	}
	return err.Error()
}
