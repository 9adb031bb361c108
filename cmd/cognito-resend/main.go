// Command cognito-resend resends Amazon Cognito sign-up confirmation codes in bulk,
// within Cognito's rate quota, and writes a per-user report. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/clock"
)

// version, commit and date (the commit's, RFC 3339 UTC) are set at build time:
// -ldflags "-X main.version=... -X main.commit=... -X main.date=..." (make build, make
// release).
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// Exit codes (README "Exit codes").
const (
	exitOK      = 0
	exitFailed  = 1 // some rows failed
	exitUsage   = 2 // usage or configuration error, found before any call
	exitStopped = 3 // campaign stopped: systemic error or interrupted
	exitBudget  = 4 // the daily budget (or Cognito's daily cap) is spent, more to do: --resume in the next window
)

// hardExitAfter is how long the process may take to end after the second signal.
const hardExitAfter = 3 * time.Second

// exitError carries an exit code out of a command action.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// A command's action returns its error as one of these; run prints it (the one place
// that prints a command's error: nothing when err is nil, as when a summary said it) and
// exits with its code.
func usageErr(err error) error   { return &exitError{code: exitUsage, err: err} }
func stoppedErr(err error) error { return &exitError{code: exitStopped, err: err} }
func failedErr(err error) error  { return &exitError{code: exitFailed, err: err} }

// writeErr is a failure to write an output (a full disk, a closed pipe): exit 1; nil
// stays nil.
func writeErr(err error) error {
	if err == nil {
		return nil
	}
	return failedErr(fmt.Errorf("writing the output failed: %w", err))
}

func main() {
	paceGC(os.Getenv)
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is main without the process: tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	// First signal: soft stop (no new calls; in-flight calls finish; report flushed).
	// Second signal: hard stop (abort calls in flight) and exit promptly. Which signals:
	// signals.go (Ctrl-C on Windows included).
	stop, stopCancel := signal.NotifyContext(context.Background(), stopSignals...)
	defer stopCancel()
	kill, killCancel := context.WithCancel(context.Background())
	defer killCancel()
	out := &notes{w: stderr}
	go func() {
		<-stop.Done()
		if context.Cause(stop) == nil {
			return
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, stopSignals...)
		defer signal.Stop(sig)
		select {
		case <-sig:
			out.say(slog.LevelWarn, "stopping", "second signal: aborting calls in flight")
			killCancel()
			clock.Real().AfterFunc(hardExitAfter, func() { os.Exit(exitStopped) })
		case <-kill.Done():
		}
	}()

	ios := streams{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, notes: out}
	app := newApp(ios, kill)
	args = lambdaArgs(args, getenv)
	inLambda := len(args) > 1 && args[1] == "lambda" && getenv(envRuntimeAPI) != ""
	// A misspelt COGNITO_RESEND_* name is a usage error before anything else reads the
	// environment (config.CheckEnv), for every command.
	err := config.CheckEnv(os.Environ(), envNames(app))
	if err != nil {
		err = usageErr(err)
	} else {
		err = app.Run(stop, args)
	}
	if err == nil {
		return exitOK
	}
	if inLambda && !errors.As(err, new(*servedErr)) {
		return lambdaInitFailed(ios, err) // every cold-start failure, one path
	}
	var ee *exitError
	if errors.As(err, &ee) {
		switch {
		case ee.err == nil:
		case ee.code == exitUsage:
			printError(&notes{w: stderr}, ee.err.Error()) // a mistake: one plain line, nothing ran
		default:
			printError(out, ee.err.Error())
		}
		return ee.code
	}
	// Anything else urfave/cli reports itself (an environment variable that doesn't
	// parse) is usage.
	printError(&notes{w: stderr}, usageMessage(err))
	return exitUsage
}

// printError writes an error, one "cognito-resend: " line per line of it (a config
// file's errors are one per bad entry).
func printError(out *notes, msg string) {
	var b strings.Builder
	for line := range strings.SplitSeq(msg, "\n") {
		b.WriteString("cognito-resend: " + line + "\n")
	}
	out.say(slog.LevelError, "error", b.String())
}

// streams are the process's standard streams and environment (tests pass their own).
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	notes          *notes // stderr's notes (stop notices, summary, exit error)
}

func newApp(ios streams, kill context.Context) *cli.Command {
	app := &cli.Command{
		Name:            "cognito-resend",
		Usage:           "resend Amazon Cognito sign-up confirmation codes in bulk, safely",
		Writer:          ios.stdout,
		ErrWriter:       ios.stderr,
		Reader:          ios.stdin,
		HideHelpCommand: true,
		ExitErrHandler:  func(context.Context, *cli.Command, error) {}, // run() maps errors to codes
		Commands: []*cli.Command{
			newCmdRun(ios, kill),
			newCmdConfig(ios),
			newCmdVersion(ios),
			newCmdEnqueue(ios),
			newCmdReport(ios),
			newCmdLedger(ios),
			newCmdLambda(ios),
		},
	}
	wireUsageErrors(app)
	return app
}

// loadConfig builds the effective configuration (defaults < --config file < env <
// flags) and validates it.
func loadConfig(cmd *cli.Command, getenv func(string) string) (config.Config, error) {
	cfg, err := buildConfig(cmd, getenv)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}
