package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/campaign"
	"github.com/cognito-resend/cognito-resend/worker/clock"
)

// Lambda's environment (docs/lambda.md).
const (
	envRuntimeAPI   = "AWS_LAMBDA_RUNTIME_API"
	envFunctionName = "AWS_LAMBDA_FUNCTION_NAME"
	// bootstrapName is the name provided.al2023 runs: the same binary started as it, with
	// no arguments, is `cognito-resend lambda`.
	bootstrapName = "bootstrap"
)

// lambdaArgs turns the arguments of a process Lambda started into `lambda`: the binary
// named bootstrap without arguments (provided.al2023), or any name without arguments
// inside a Lambda environment (AWS_LAMBDA_RUNTIME_API set, e.g. a container image's
// entry point). Everything else is left alone.
func lambdaArgs(args []string, getenv func(string) string) []string {
	if len(args) == 1 && (filepath.Base(args[0]) == bootstrapName || getenv(envRuntimeAPI) != "") {
		return []string{args[0], "lambda"}
	}
	return args
}

// newCmdLambda is `cognito-resend lambda`: the Lambda function on an SQS event source
// mapping. Its options are run's, read from the environment (COGNITO_RESEND_<FLAG>,
// COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET) and validated once, at cold start.
func newCmdLambda(ios streams) *cli.Command {
	return &cli.Command{
		Name:  "lambda",
		Usage: "run as an AWS Lambda function on an SQS event source mapping (the binary named bootstrap runs this; see docs/lambda.md)",
		UsageText: "cognito-resend lambda   (inside Lambda, with COGNITO_CLIENT_ID, COGNITO_RESEND_LEDGER_TABLE, ... " +
			"in the function's environment)",
		Flags: append(lambdaFlags(runFlags()),
			&cli.IntFlag{Category: groupQueue, Name: "max-receive-count", Usage: "Lambda mode: the queue's redrive policy maxReceiveCount (0: the queue has no DLQ): a poison message is a batch item failure while the redrive can still move it to the DLQ, else it is logged and deleted", Sources: env("max-receive-count")}),
		CustomHelpTemplate: groupedHelpTemplate(""),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runLambda(ctx, cmd, ios)
		},
	}
}

// lambdaFlags hides from `lambda --help` the run options Lambda mode has no use for
// (config.InLambda). They stay flags, so that one set in the function's environment is
// read and refused by Validate rather than ignored.
func lambdaFlags(flags []cli.Flag) []cli.Flag {
	for _, f := range flags {
		if config.InLambda(f.Names()[0]) {
			if u, d := config.LambdaUsage(f.Names()[0]); u != "" {
				setUsage(f, u, d) // run's text describes run (a source, exit 4, --resume)
			}
			continue
		}
		switch f := f.(type) {
		case *cli.StringFlag:
			f.Hidden = true
		case *cli.BoolFlag:
			f.Hidden = true
		case *cli.IntFlag:
			f.Hidden = true
		case *cli.FloatFlag:
			f.Hidden = true
		case *cli.DurationFlag:
			f.Hidden = true
		case *cli.StringSliceFlag:
			f.Hidden = true
		default:
			panic(fmt.Sprintf("lambdaFlags: can't hide --%s (%T)", f.Names()[0], f))
		}
	}
	return flags
}

// setUsage replaces f's description, and its default's text when def is not "".
func setUsage(f cli.Flag, usage, def string) {
	switch f := f.(type) {
	case *cli.StringFlag:
		f.Usage, f.DefaultText = usage, cmp.Or(def, f.DefaultText)
	case *cli.BoolFlag:
		f.Usage, f.DefaultText = usage, cmp.Or(def, f.DefaultText)
	case *cli.IntFlag:
		f.Usage, f.DefaultText = usage, cmp.Or(def, f.DefaultText)
	case *cli.FloatFlag:
		f.Usage, f.DefaultText = usage, cmp.Or(def, f.DefaultText)
	case *cli.DurationFlag:
		f.Usage, f.DefaultText = usage, cmp.Or(def, f.DefaultText)
	default:
		panic(fmt.Sprintf("setUsage: --%s (%T)", f.Names()[0], f))
	}
}

func runLambda(stop context.Context, cmd *cli.Command, ios streams) error {
	// Outside Lambda, say so before any option's complaint.
	if ios.getenv(envRuntimeAPI) == "" {
		return usageErr(errors.New("not inside AWS Lambda (" + envRuntimeAPI + " is not set): deploy the bootstrap of " +
			"the lambda zip (deploy/lambda/); to drain a queue from here, use run --sqs-queue-url"))
	}
	cfg, err := buildConfig(cmd, ios.getenv)
	if err != nil {
		return usageErr(err)
	}
	cfg.Lambda = true
	if err := cfg.Validate(); err != nil {
		return usageErr(err)
	}
	cfg.LogFormat = "json" // CloudWatch Logs Insights reads JSON lines
	log := newLogger(cfg, ios.stderr)
	// The log package's lines (the Lambda runtime client's own) through the same JSON
	// handler, at ERROR: they are its failures, the last one its fatal exit (a Runtime API
	// that does not serve invocations), which the default INFO hid among the lines of a
	// function at work.
	slog.SetDefault(log)
	slog.SetLogLoggerLevel(slog.LevelError)
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	c := campaign.New(cfg, campaign.Env{Logger: log, Clock: clock.Real(), Factory: campaign.AWSFactory, FunctionName: ios.getenv(envFunctionName)})
	f, err := campaign.OpenFunction(stop, c)
	if err != nil {
		return startErr(err) // run posts it to the Runtime API; Lambda retries the cold start
	}
	log.Info("lambda function ready", f.Describe()...)
	if err := f.Serve(stop); err != nil { // until SIGTERM: the environment shuts down, with no invocation in flight
		return &servedErr{err}
	}
	return nil
}

// servedErr is an error of a function that had started (not an init error).
type servedErr struct{ err error }

func (e *servedErr) Error() string { return e.err.Error() }
func (e *servedErr) Unwrap() error { return e.err }

// lambdaInitFailed is every cold-start failure's one path: the error is posted to the
// Runtime API as the init error (campaign.ReportInitError: Lambda shows it), written as
// one JSON line on stderr (CloudWatch Logs), and its exit code ends the process.
func lambdaInitFailed(ios streams, err error) int {
	code := exitUsage
	var ee *exitError
	msg := usageMessage(err)
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
		msg = ee.err.Error()
	}
	campaign.ReportInitError(ios.getenv(envRuntimeAPI), errors.New(msg))
	slog.New(slog.NewJSONHandler(ios.stderr, nil)).Error("init failed", "error", msg, "error_type", campaign.InitErrorType, "exit_code", code)
	return code
}
