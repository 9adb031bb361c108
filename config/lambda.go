package config

import "slices"

// notInLambda are run's options a Lambda function has no use for, each with why (the
// reason fits the option: the trial's one sentence for all did not fit
// --invitation-rate). Set in the function's environment they are refused, not ignored:
// whoever sets COGNITO_RESEND_CREATED_AFTER expects a filter. `lambda --help` leaves
// them out.
var notInLambda = []struct{ option, why string }{
	{"header", whyNoFile}, {"created-after", whyNoPool}, {"created-before", whyNoPool}, {"page-size", whyNoPool},
	{"shutdown-timeout", "the invocation's deadline bounds the work: calls in flight are aborted 3 s before it"},
	{"start-if-missing", whyNoReport}, {"retry-failed", whyNoReport}, {"report-max-size", whyNoReport}, {"report-keep", whyNoReport},
	{"wait-time-seconds", whyESM}, {"visibility-timeout", whyESM}, {"max-in-flight", whyESM}, {"exit-when-empty", whyESM},
	{"empty-polls", whyESM}, {"retry-delay", whyESM},
	{"progress", whyJSON}, {"progress-interval", whyJSON}, {"log-format", whyJSON},
	{"invitation-delivery", whyNoInvitations}, {"invitation-rate", whyNoInvitations},
}

const (
	whyNoFile        = "there is no CSV to read: the event source mapping delivers the messages (enqueue the CSV: cognito-resend enqueue --csv)"
	whyNoPool        = "there is no pool listing: the event source mapping delivers the messages (enqueue the users: cognito-resend enqueue)"
	whyNoReport      = "Lambda mode writes no report: each outcome is in the ledger table (cognito-resend ledger export)"
	whyESM           = "the event source mapping polls the queue, and deletes or redelivers each message by the batch response (its settings and the queue's)"
	whyJSON          = "the log is JSON lines for CloudWatch, one a message, with no progress line"
	whyNoInvitations = "it is an --invitations setting, and --invitations is not available in Lambda mode yet"
)

// lambdaUsage is `lambda --help`'s description of the options whose run description
// says what run does (a source, exit 4, --resume): what they do in a function.
var lambdaUsage = map[string]string{
	"user-pool-id":  "the user pool of the messages' users: its username case rule (IAM cognito-idp:DescribeUserPool) and the pool --verify-users checks; not a source (the event source mapping delivers the messages)",
	"daily-budget":  "messages sent per window (a day from --budget-reset), counted in --ledger-table for every function environment and campaign sharing it; once spent, each message not yet started is made invisible until the next window opens (nobody is called); 0: no budget",
	"retry-unknown": "call again the users the ledger table holds as unknown (a call that may have reached Cognito: aborted at the deadline, a timeout, a claim whose lease lapsed); risks a second code",
	"verify-users":  "before each resend, check the user's state in the pool (needs --user-pool-id; how: --verify-with): unknown, confirmed, disabled and admin-created users get their outcome in the message's log line and no resend; without it, PreventUserExistenceErrors can report users who got nothing as sent",
	"max-outage":    "how long Cognito may answer no call (connection refused, DNS failure, timeouts, 5xx) before an ERROR line says it is unreachable, and again each as long while it lasts; the function goes on: the batches fail and the event source mapping backs off; 0: no such line",
	"list-rate":     "ListUsers calls per second for the whole function environment: the --verify-users census and lookups (UserList quota, 30/s per account, not adjustable, shared with your application)",
	"campaign-id":   "name of the campaign in the ledger table: the same in every execution environment of the function (ledger export --campaign reads it)",
	"rate":          "ResendConfirmationCode requests per second for each execution environment, retries included (the ESM may run several: --fleet-rate is the whole function's); UserResourceRead allows 50/s per account and region by default, shared with your application",
	"reserve":       "requests/second of the quota to leave to the rest of the account: once throttled, stay at least this far below the rate throttling came at; per execution environment (needs --adaptive)",
	"ledger-table":  "the DynamoDB table every function environment, replica and campaign shares, so no user gets a second code: required in Lambda mode (create it with: cognito-resend ledger init)",
}

// lambdaDefault is `lambda --help`'s default of the options whose run default is not
// Lambda mode's.
var lambdaDefault = map[string]string{"ledger-table": "none: required", "campaign-id": "lambda:<function name>"}

// LambdaUsage is option's description and default for `lambda --help` ("": run's
// applies).
func LambdaUsage(option string) (usage, defaultText string) {
	return lambdaUsage[option], lambdaDefault[option]
}

// refusedInLambda are refused by validateLambda, each with a reason of its own.
var refusedInLambda = []string{"csv", "sqs-queue-url", "report", "resume", "metrics-addr", "dry-run", "invitations"}

func notInLambdaOption(option string) bool {
	return slices.ContainsFunc(notInLambda, func(o struct{ option, why string }) bool { return o.option == option })
}

// InLambda reports whether run's option (its flag name) means something in Lambda mode.
// --yes is accepted there (a function never asks: what it says is already so) but is not
// one of the function's settings.
func InLambda(option string) bool {
	return option != "yes" && !notInLambdaOption(option) && !slices.Contains(refusedInLambda, option)
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
	case c.Report != "":
		return bad("report", "Lambda mode writes no report file: each message is a JSON log line and its outcome is in the "+
			"ledger table (cognito-resend ledger export)")
	case c.Resume:
		return bad("resume", "Lambda mode has no report to resume: the ledger table keeps every invocation, retried or "+
			"concurrent, from calling a user twice, and a redelivered message finds its user's outcome there; remove it "+
			"from the function's environment")
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
		if c.Given(o.option) {
			return bad(o.option, "has no effect in Lambda mode (%s): remove it from the function's environment "+
				"(`lambda --help` lists what applies)", o.why)
		}
	}
	return nil
}
