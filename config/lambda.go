package config

import "slices"

// notInLambda are run's options a Lambda function has no use for: the CSV and pool
// sources and their filters, the prompt, the report and its rotation, the queue worker's
// receive loop (the event source mapping polls), progress, the stop budget (the
// invocation's deadline is the budget), and invitations (refused below with their own
// reason). Set in the function's environment they are refused, not ignored: whoever sets
// COGNITO_RESEND_CREATED_AFTER expects a filter. `lambda --help` leaves them out.
var notInLambda = []string{
	"header", "created-after", "created-before", "page-size",
	"shutdown-timeout",
	"start-if-missing", "retry-failed", "report-max-size", "report-keep",
	"wait-time-seconds", "visibility-timeout", "max-in-flight", "exit-when-empty", "empty-polls", "retry-delay",
	"progress", "progress-interval", "log-format",
	"invitation-delivery", "invitation-rate",
}

// refusedInLambda are refused by validateLambda, each with a reason of its own.
var refusedInLambda = []string{"csv", "sqs-queue-url", "report", "resume", "metrics-addr", "dry-run", "invitations"}

// InLambda reports whether run's option (its flag name) means something in Lambda mode.
// --yes is accepted there (a function never asks: what it says is already so) but is not
// one of the function's settings.
func InLambda(option string) bool {
	return option != "yes" && !slices.Contains(notInLambda, option) && !slices.Contains(refusedInLambda, option)
}

// validateLambda checks what Lambda mode needs and refuses what it can't honour: the
// event source mapping is the source, there is no disk to keep a report or a file ledger
// on between invocations, and nothing to serve metrics on. Outside Lambda mode
// --max-receive-count has no meaning.
func (c *Config) validateLambda() error {
	if !c.Lambda {
		if c.MaxReceiveCount != 0 {
			return bad("max-receive-count", "is for Lambda mode (cognito-resend lambda): the queue worker reads the queue's redrive policy itself")
		}
		return nil
	}
	switch {
	case c.CSV != "":
		return bad("csv", "Lambda mode takes its messages from the event source mapping: no --csv (enqueue the CSV: cognito-resend enqueue --csv)")
	case c.SQSQueueURL != "":
		return bad("sqs-queue-url", "Lambda mode takes its messages from the event source mapping: no --sqs-queue-url")
	case c.LedgerTable == "":
		return bad("ledger-table", "required in Lambda mode (COGNITO_RESEND_LEDGER_TABLE): there is no disk to resume from, "+
			"and only the table keeps concurrent and retried invocations from sending a user a second code")
	case c.Report != "" || c.Resume:
		return bad("report", "Lambda mode writes no report file: each message is a JSON log line and its outcome is in the "+
			"ledger table (cognito-resend ledger export)")
	case c.MetricsAddr != "":
		return bad("metrics-addr", "Lambda mode serves nothing: its metrics are Embedded Metric Format log lines")
	case c.DryRun:
		return bad("dry-run", "a Lambda function can't dry-run a batch: dry-run the CSV you enqueue instead")
	case c.Invitations:
		// Refused, not ignored: the function would otherwise send admin-created users
		// nothing and say so only in their rows.
		return bad("invitations", "not available in Lambda mode yet: resend invitations with the queue worker "+
			"(run --sqs-queue-url … --invitations) or a CSV campaign (docs/invitations.md)")
	case c.MaxReceiveCount < 0 || c.MaxReceiveCount > 1000:
		return bad("max-receive-count", "must be 0 (the queue has no DLQ) or the redrive policy's maxReceiveCount, 1..1000 (got %d)", c.MaxReceiveCount)
	}
	for _, o := range notInLambda {
		if c.Given(o) {
			return bad(o, "has no effect in Lambda mode (the event source mapping delivers the messages, the invocation's "+
				"deadline bounds the work, and the log is JSON): remove it from the function's environment (`lambda --help` lists what applies)")
		}
	}
	return nil
}
