package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/campaign"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
)

// enqueueFlags are the producer's options; --csv, --sqs-queue-url, --region and the log
// options mean what they mean for run.
func enqueueFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "csv", Usage: "CSV of usernames (same format as run --csv); - reads standard input", Sources: env("csv")},
		headerFlag(config.Default(), ""),
		&cli.StringFlag{Name: "sqs-queue-url", Usage: "queue to send one message per username to", Sources: env("sqs-queue-url")},
		&cli.StringFlag{Name: "region", DefaultText: "the standard AWS chain", Usage: "AWS region of the queue", Sources: env("region")},
		&cli.BoolFlag{Name: "case-sensitive-usernames", Usage: "compare usernames case-sensitively (pools created with UsernameConfiguration.CaseSensitive=true): Alice and alice are then two users, two messages", Sources: env("case-sensitive-usernames")},
	}, logFlags("")...)
}

func enqueueConfig(cmd *cli.Command) (config.Config, error) {
	cfg := config.Default()
	cfg.CSV = cmd.String("csv")
	cfg.Header = csvsource.Header(cmd.String("header"))
	cfg.SQSQueueURL = cmd.String("sqs-queue-url")
	applySubcommandOptions(cmd, &cfg)
	return cfg, cfg.ValidateEnqueue()
}

// newCmdEnqueue is `cognito-resend enqueue`.
func newCmdEnqueue(ios streams) *cli.Command {
	return &cli.Command{
		Name:      "enqueue",
		Usage:     "send one SQS message per username of a CSV file, for run --sqs-queue-url",
		UsageText: "cognito-resend enqueue --csv PATH|- --sqs-queue-url URL [options]",
		Flags:     enqueueFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			return runEnqueue(ctx, cmd, ios)
		},
	}
}

// runEnqueue is the producer: CSV → validate, dedupe → SendMessageBatch. Exit 0 when
// every valid row was enqueued, 1 when some were not, 2 on usage errors, 3 when stopped.
func runEnqueue(ctx context.Context, cmd *cli.Command, ios streams) error {
	cfg, err := enqueueConfig(cmd)
	if err != nil {
		return usageErr(err)
	}
	p, err := campaign.OpenProducer(ctx, cfg, campaign.Env{Stdin: ios.stdin, Logger: newLogger(cfg, ios.stderr), Clock: clock.Real(), Factory: campaign.AWSFactory})
	if err != nil {
		return usageErr(err)
	}
	sum, err := p.Run(ctx)
	fmt.Fprintf(ios.stdout, "enqueued=%d skipped_invalid=%d skipped_duplicate=%d failed=%d\n",
		sum.Enqueued, sum.Invalid, sum.Duplicate, sum.Failed)
	switch {
	case err != nil && ctx.Err() != nil:
		return stoppedErr(errors.New("enqueue interrupted; rows after the last enqueued one were not sent"))
	case err != nil:
		return failedErr(fmt.Errorf("enqueue stopped: %w", err))
	case sum.Failed > 0:
		return failedErr(nil) // the summary line says how many
	}
	return nil
}
