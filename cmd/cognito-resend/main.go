// Command cognito-resend resends Amazon Cognito sign-up confirmation codes in bulk,
// within Cognito's rate quota, and writes a per-user report. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/config"
)

// version is set at build time (-ldflags -X main.version=...).
var version = "dev"

// Exit codes (README "Exit codes").
const (
	exitOK      = 0
	exitFailed  = 1 // some rows failed
	exitUsage   = 2 // usage or configuration error, found before any call
	exitStopped = 3 // campaign stopped: systemic error or interrupted
)

// exitError carries an exit code out of a command action.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(err error) error   { return &exitError{code: exitUsage, err: err} }
func stoppedErr(err error) error { return &exitError{code: exitStopped, err: err} }

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is main without the process: tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	// First signal: soft stop (no new calls; in-flight calls finish; report flushed).
	// Second signal: hard stop (abort calls in flight) and exit promptly.
	stop, stopCancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopCancel()
	kill, killCancel := context.WithCancel(context.Background())
	defer killCancel()
	go func() {
		<-stop.Done()
		if context.Cause(stop) == nil {
			return
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		select {
		case <-sig:
			fmt.Fprintln(stderr, "second signal: aborting calls in flight")
			killCancel()
			time.AfterFunc(3*time.Second, func() { os.Exit(exitStopped) })
		case <-kill.Done():
		}
	}()

	app := newApp(stdin, stdout, stderr, getenv, kill)
	err := app.Run(stop, args)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.code != exitFailed {
			fmt.Fprintln(stderr, "cognito-resend:", ee.err)
		}
		return ee.code
	}
	// Anything urfave/cli reports itself (unknown flag, missing argument) is usage.
	fmt.Fprintln(stderr, "cognito-resend:", err)
	return exitUsage
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, kill context.Context) *cli.Command {
	return &cli.Command{
		Name:            "cognito-resend",
		Usage:           "resend Amazon Cognito sign-up confirmation codes in bulk, safely",
		Writer:          stdout,
		ErrWriter:       stderr,
		Reader:          stdin,
		HideHelpCommand: true,
		ExitErrHandler:  func(context.Context, *cli.Command, error) {}, // run() maps errors to codes
		Commands: []*cli.Command{
			{
				Name:      "run",
				Usage:     "resend codes to the users of a CSV file, a user pool or an SQS queue, within the rate quota",
				UsageText: "cognito-resend run (--csv PATH|- | --user-pool-id ID | --sqs-queue-url URL) --client-id ID [options]",
				Flags:     runFlags(),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					cfg, err := loadConfig(cmd, getenv)
					if err != nil {
						return usageErr(err)
					}
					return runCampaign(ctx, kill, cfg, stdin, stdout, stderr)
				},
			},
			{
				Name:  "config",
				Usage: "configuration tools",
				Commands: []*cli.Command{{
					Name:      "print",
					Usage:     "print the effective configuration (defaults < --config file < environment < flags), secret redacted",
					UsageText: "cognito-resend config print [run options]",
					Flags:     runFlags(),
					Action: func(_ context.Context, cmd *cli.Command) error {
						return configPrint(cmd, stdout, getenv)
					},
				}},
			},
			{
				Name:  "version",
				Usage: "print the version and build information",
				Action: func(context.Context, *cli.Command) error {
					printVersion(stdout)
					return nil
				},
			},
			{
				Name:      "enqueue",
				Usage:     "send one SQS message per username of a CSV file, for run --sqs-queue-url",
				UsageText: "cognito-resend enqueue --csv PATH|- --sqs-queue-url URL [options]",
				Flags:     enqueueFlags(),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return runEnqueue(ctx, cmd, stdin, stdout, stderr)
				},
			},
		},
	}
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
