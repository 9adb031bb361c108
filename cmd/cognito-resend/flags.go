package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v3"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-resend/cognito-resend/config"
)

// envPrefix names the environment variable of every flag: --max-attempts is
// COGNITO_RESEND_MAX_ATTEMPTS. --client-id also reads COGNITO_CLIENT_ID.
const envPrefix = "COGNITO_RESEND_"

func envFor(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func env(flag string, extra ...string) cli.ValueSourceChain {
	return cli.EnvVars(append(extra, envFor(flag))...)
}

// Flag groups of `run --help` (and `config print --help`), shown in the order of
// flagGroups. Every flag takes one of these as its Category; a new group is a constant
// here and an entry in flagGroups (TestRunHelpGroups fails on a flag outside them).
const (
	groupSource  = "Source"
	groupCognito = "Cognito"
	groupSafety  = "Safety"
	groupRate    = "Rate & retries"
	groupReport  = "Report & resume"
	groupLedger  = "Shared ledger (fleet-safe)"
	groupQueue   = "Queue mode"
	groupObserve = "Observability"
	groupGeneral = "General" // --config, and --help
)

var flagGroups = []string{groupSource, groupCognito, groupSafety, groupRate, groupReport, groupLedger, groupQueue, groupObserve, groupGeneral}

func runFlags() []cli.Flag {
	d := config.Default()
	return showTrueDefaults(append([]cli.Flag{
		// Source
		&cli.StringFlag{Category: groupSource, Name: "csv", Usage: "CSV of usernames: a header with a username column, or one column of usernames; - reads standard input", Sources: env("csv")},
		headerFlag(d, groupSource),
		&cli.StringFlag{Category: groupSource, Name: "user-pool-id", Usage: "the user pool: alone, the source (its UNCONFIRMED users, and with --invitations its FORCE_CHANGE_PASSWORD ones; needs IAM cognito-idp:ListUsers); beside --csv or --sqs-queue-url, the pool --verify-users checks. Its username case rule is read when IAM allows cognito-idp:DescribeUserPool", Sources: env("user-pool-id")},
		&cli.StringFlag{Category: groupSource, Name: "sqs-queue-url", Usage: "queue mode: consume usernames from this SQS queue (see Queue mode below)", Sources: env("sqs-queue-url")},
		&cli.StringFlag{Category: groupSource, Name: "created-after", Usage: "pool mode: only users created at or after this RFC 3339 time, this date (2026-12-04: UTC midnight), or this long ago (72h, 3d)", Sources: env("created-after")},
		&cli.StringFlag{Category: groupSource, Name: "created-before", Usage: "pool mode: only users created before this RFC 3339 time, this date (UTC midnight), or this long ago (72h, 3d)", Sources: env("created-before")},
		&cli.IntFlag{Category: groupSource, Name: "page-size", Value: d.PageSize, Usage: "pool mode: users per ListUsers page, 1..60", Sources: env("page-size")},
		&cli.FloatFlag{Category: groupSource, Name: "list-rate", Value: d.ListRate, Usage: "ListUsers calls per second for the whole process: the pool source's listing and the --verify-users census and lookups share it (UserList quota, 30/s per account, not adjustable, shared with your application)", Sources: env("list-rate")},

		// Cognito
		&cli.StringFlag{Category: groupCognito, Name: "client-id", Usage: "Cognito app client id (required)", Sources: env("client-id", config.EnvClientID)},
		&cli.StringFlag{Category: groupCognito, Name: "client-secret-file", Usage: "file holding the app client secret (or set " + config.EnvClientSecret + "); never pass the secret itself on the command line", Sources: env("client-secret-file")},
		&cli.StringFlag{Category: groupCognito, Name: "region", DefaultText: "the standard AWS chain", Usage: "AWS region of the user pool, e.g. eu-west-1, checked before any call; the chain reads AWS_REGION, AWS_DEFAULT_REGION, then the AWS profile's region", Sources: env("region")},
		&cli.StringSliceFlag{Category: groupCognito, Name: "metadata", Usage: "KEY=VALUE ClientMetadata for every call (repeatable)", Sources: env("metadata")},
		&cli.StringFlag{Category: groupCognito, Name: "analytics-endpoint-id", Usage: "Amazon Pinpoint endpoint id for AnalyticsMetadata", Sources: env("analytics-endpoint-id")},
		&cli.BoolFlag{Category: groupCognito, Name: "verify-users", Usage: "before each resend, check the user's state in the pool (needs --user-pool-id; how: --verify-with): unknown, confirmed, disabled and admin-created users get their row and no resend (admin-created ones their invitation with --invitations); without it, PreventUserExistenceErrors can report users who got nothing as sent", Sources: env("verify-users")},
		&cli.StringFlag{Category: groupCognito, Name: "verify-with", DefaultText: "listusers", Usage: "--verify-users: how each user's state is read (needs --verify-users; the API's names ListUsers and AdminGetUser are accepted too): listusers (a census of the pool by ListUsers, and ListUsers lookups by name for the users it can't place; IAM cognito-idp:ListUsers; bills no user) or admin-get-user (AdminGetUser per user; IAM cognito-idp:AdminGetUser; makes every user checked a billed monthly active user)", Sources: env("verify-with")},
		&cli.BoolFlag{Category: groupCognito, Name: "invitations", Usage: "also resend the invitation of admin-created users (FORCE_CHANGE_PASSWORD) with AdminCreateUser MessageAction=RESEND: each gets a NEW temporary password and the old one stops working (needs --user-pool-id, beside --csv or --sqs-queue-url also --verify-users, and IAM cognito-idp:AdminCreateUser); without it they are reported not_eligible", Sources: env("invitations")},
		&cli.StringFlag{Category: groupCognito, Name: "invitation-delivery", DefaultText: "unset, Cognito's own (SMS)", Usage: "--invitations: EMAIL or SMS (DesiredDeliveryMediums); unset, Cognito applies its own default, which the AdminCreateUser API reference gives as SMS: pass EMAIL for users without a phone number", Sources: env("invitation-delivery")},
		&cli.BoolFlag{Category: groupCognito, Name: "case-sensitive-usernames", Usage: "compare usernames case-sensitively (pools created with UsernameConfiguration.CaseSensitive=true); the pool's own setting wins when DescribeUserPool can read it; without either, usernames compare case-insensitively", Sources: env("case-sensitive-usernames")},

		// Safety
		&cli.BoolFlag{Category: groupSafety, Name: "dry-run", Usage: "read and validate the source, print what would be sent and the ETA; make no resend call", Sources: env("dry-run")},
		&cli.BoolFlag{Category: groupSafety, Name: "yes", Aliases: []string{"force"}, Usage: "don't ask for confirmation (required without a terminal)", Sources: env("yes")},
		&cli.DurationFlag{Category: groupSafety, Name: "shutdown-timeout", Value: d.ShutdownTimeout, Usage: "after a stop signal, how long calls in flight may take before they are aborted", Sources: env("shutdown-timeout")},

		// Rate & retries
		&cli.FloatFlag{Category: groupRate, Name: "rate", Value: d.Rate, Usage: "ResendConfirmationCode requests per second, retries included; --fleet-rate replaces it (a value of its own beside --fleet-rate is logged as a WARN at start); its quota category, UserResourceRead, allows 50/s per account and region by default, shared with your application: the default stays well under it", Sources: env("rate")},
		&cli.FloatFlag{Category: groupRate, Name: "fleet-rate", Value: d.FleetRate, Usage: "requests per second for the whole fleet (at least 0.1): the replicas alive in --ledger-table (required) under --fleet-name (required) split it among themselves, so scaling never changes the total; replaces --rate; the lowest rate of the replicas alive is the fleet's (a lower one is logged as a WARN naming its replica); adaptive cuts still apply on top; 0: off", Sources: env("fleet-rate")},
		&cli.StringFlag{Category: groupRate, Name: "fleet-name", Usage: "--fleet-rate (required with it): the fleet that shares it in the table, the same on every replica of the fleet; replicas under other names have budgets of their own", Sources: env("fleet-name")},
		&cli.DurationFlag{Category: groupRate, Name: "fleet-heartbeat", Value: d.FleetHeartbeat, Usage: "--fleet-rate: how often each replica writes its heartbeat and reads the fleet; a killed replica stops counting 3 heartbeats after its last", Sources: env("fleet-heartbeat")},
		&cli.BoolFlag{Category: groupRate, Name: "adaptive", Value: d.Adaptive, Usage: "cut the rate on TooManyRequestsException and grow it back when quiet; --adaptive=false holds --rate exactly", Sources: env("adaptive")},
		&cli.FloatFlag{Category: groupRate, Name: "reserve", Value: d.Reserve, Usage: "requests/second of the quota to leave to the rest of the account (your live application): once throttled, stay at least this far below the rate throttling came at; per process (needs --adaptive)", Sources: env("reserve")},
		&cli.IntFlag{Category: groupRate, Name: "burst", Value: d.Burst, Usage: "requests allowed at once above the rate", Sources: env("burst")},
		&cli.IntFlag{Category: groupRate, Name: "workers", Value: d.Workers, Usage: "concurrent calls", Sources: env("workers")},
		&cli.IntFlag{Category: groupRate, Name: "max-attempts", Value: d.MaxAttempts, Usage: "attempts per user for throttles and server faults", Sources: env("max-attempts")},
		&cli.DurationFlag{Category: groupRate, Name: "backoff-base", Value: d.BackoffBase, Usage: "first retry delay (doubles, with jitter)", Sources: env("backoff-base")},
		&cli.DurationFlag{Category: groupRate, Name: "backoff-max", Value: d.BackoffMax, Usage: "largest retry delay", Sources: env("backoff-max")},
		&cli.DurationFlag{Category: groupRate, Name: "call-timeout", Value: d.CallTimeout, Usage: "timeout of one Cognito call", Sources: env("call-timeout")},
		&cli.FloatFlag{Category: groupRate, Name: "verify-rate", Value: d.VerifyRate, Usage: "--verify-with admin-get-user: AdminGetUser calls per second (its own limiter; UserRead quota, 120/s per account, shared with your application)", Sources: env("verify-rate")},
		// Daily send budget (docs/long-campaigns.md)
		&cli.IntFlag{Category: groupRate, Name: "daily-budget", Value: d.DailyBudget, Usage: "messages sent per window (a day from --budget-reset), counted in the report, or in --ledger-table for every campaign sharing it; once spent a CSV or pool campaign stops with exit 4 (--resume it in the next window), a queue worker stops receiving until the next window; 0: no budget", Sources: env("daily-budget")},
		&cli.StringFlag{Category: groupRate, Name: "budget-reset", Value: d.BudgetReset, Usage: "HH:MM UTC at which each daily window begins (--daily-budget, and the wait after Cognito's daily email limit answers)", Sources: env("budget-reset")},
		&cli.FloatFlag{Category: groupRate, Name: "invitation-rate", Value: d.InvitationRate, Usage: "--invitations: AdminCreateUser calls per second (its own adaptive limiter; UserCreation quota, 50/s per account, shared with your application's SignUp and ConfirmSignUp); with --fleet-rate, the whole fleet's, split like it", Sources: env("invitation-rate")},
		&cli.DurationFlag{Category: groupRate, Name: "max-outage", Value: d.MaxOutage, Usage: "stop the campaign (exit 3) once Cognito has answered no call for this long (connection refused, DNS failure, timeouts, 5xx); 0 waits out any outage", Sources: env("max-outage")},

		// Report & resume
		&cli.StringFlag{Category: groupReport, Name: "report", DefaultText: "cognito-resend-report-<UTC time>.csv", Usage: "report file, .csv or .jsonl", Sources: env("report")},
		&cli.BoolFlag{Category: groupReport, Name: "resume", Usage: "continue the campaign of --report: skip rows it has, append the rest; users whose call may have happened become unknown", Sources: env("resume")},
		&cli.BoolFlag{Category: groupReport, Name: "start-if-missing", Usage: "with --resume, start the campaign when --report does not exist yet and no report beside it was made from the same input (automation that starts or continues it, e.g. a Kubernetes Job); without it --resume onto a missing report is an error", Sources: env("start-if-missing")},
		&cli.BoolFlag{Category: groupReport, Name: "retry-unknown", Usage: "with --resume or --ledger-table, call users reported unknown again (risks a second code)", Sources: env("retry-unknown")},
		&cli.BoolFlag{Category: groupReport, Name: "retry-failed", Usage: "with --resume, call again the users whose latest row is failed, or limit_exceeded more than an hour ago", Sources: env("retry-failed")},
		&cli.StringFlag{Category: groupReport, Name: "report-max-size", DefaultText: "64MiB in queue mode, else 0", Usage: "queue mode: rotate the report and its .ledger when the report reaches this size (bytes, or 64MiB, 100MB); 0 never rotates", Sources: env("report-max-size")},
		&cli.IntFlag{Category: groupReport, Name: "report-keep", Value: d.ReportKeep, Usage: "rotated report+ledger pairs kept; older ones are deleted", Sources: env("report-keep")},

		// Shared ledger
		&cli.StringFlag{Category: groupLedger, Name: "ledger-table", DefaultText: "the file ledger beside the report", Usage: "DynamoDB table every replica, source and campaign shares, so no user gets a second code (create it with: cognito-resend ledger init)", Sources: env("ledger-table")},
		&cli.StringFlag{Category: groupLedger, Name: "ledger-region", DefaultText: "--region", Usage: "AWS region of --ledger-table, when it is not the user pool's", Sources: env("ledger-region")},
		&cli.DurationFlag{Category: groupLedger, Name: "cooldown", Value: d.Cooldown, Usage: "a user sent a code within this is reported recently_sent, not called; 0 keeps records of sends for ever", Sources: env("cooldown")},
		&cli.DurationFlag{Category: groupLedger, Name: "ledger-lease", Value: d.LedgerLease, Usage: "a claim's lease, renewed every third of it; a dead replica's users are unknown after it; longer than --call-timeout", Sources: env("ledger-lease")},
		&cli.DurationFlag{Category: groupLedger, Name: "ledger-retention", Value: d.LedgerRetention, Usage: "how long a user's record stays readable (ledger show, ledger list) after its last possible send, at least --cooldown; 0: as long as --cooldown", Sources: env("ledger-retention")},
		&cli.StringFlag{Category: groupLedger, Name: "campaign-id", DefaultText: "the source and the start time", Usage: "name of the campaign in the ledger table", Sources: env("campaign-id")},

		// Queue mode
		&cli.IntFlag{Category: groupQueue, Name: "wait-time-seconds", Value: d.WaitTimeSeconds, Usage: "long-poll wait, 0..20", Sources: env("wait-time-seconds")},
		&cli.DurationFlag{Category: groupQueue, Name: "visibility-timeout", Value: d.VisibilityTimeout, Usage: "visibility a received message gets, extended while it waits or retries", Sources: env("visibility-timeout")},
		&cli.IntFlag{Category: groupQueue, Name: "max-in-flight", DefaultText: "twice --workers", Usage: "messages held at once", Sources: env("max-in-flight")},
		&cli.BoolFlag{Category: groupQueue, Name: "exit-when-empty", Usage: "exit once the queue stays empty for --empty-polls long polls and nothing is in flight", Sources: env("exit-when-empty")},
		&cli.IntFlag{Category: groupQueue, Name: "empty-polls", Value: d.EmptyPolls, Usage: "consecutive empty long polls that mean empty", Sources: env("empty-polls")},
		&cli.DurationFlag{Category: groupQueue, Name: "retry-delay", Value: d.RetryDelay, Usage: "visibility backoff after exhausted retries, doubled per receive", Sources: env("retry-delay")},
		&cli.DurationFlag{Category: groupQueue, Name: "limit-exceeded-delay", Value: d.LimitExceededDelay, Usage: "visibility after a per-user limit_exceeded", Sources: env("limit-exceeded-delay")},

		// Observability
		&cli.StringFlag{Category: groupObserve, Name: "progress", Value: d.Progress, Usage: "auto (a bar on a terminal, else a log line every --progress-interval), bar, log or none", Sources: env("progress")},
		&cli.DurationFlag{Category: groupObserve, Name: "progress-interval", Value: d.ProgressInterval, Usage: "how often the progress log line is written", Sources: env("progress-interval")},
		&cli.StringFlag{Category: groupObserve, Name: "metrics-addr", Usage: "serve Prometheus /metrics, /healthz and /readyz on this address (e.g. 127.0.0.1:9090)", Sources: env("metrics-addr")},

		// General
		&cli.StringFlag{Category: groupGeneral, Name: "config", Usage: "YAML file holding any of these options (keys are the flag names); flags and environment win over it", Sources: env("config")},
	}, logFlags(groupObserve)...))
}

// logFlags are --log-level and --log-format, which every command takes, in category.
func logFlags(category string) []cli.Flag {
	d := config.Default()
	return []cli.Flag{
		&cli.StringFlag{Category: category, Name: "log-level", Value: d.LogLevel, Usage: "debug, info, warn or error", Sources: env("log-level")},
		&cli.StringFlag{Category: category, Name: "log-format", Value: d.LogFormat, Usage: "auto (text on a terminal, else JSON), text or json", Sources: env("log-format")},
	}
}

// applySubcommandOptions sets on cfg what enqueue and the ledger commands take as run
// does: --region, the log options and, when given, --case-sensitive-usernames.
func applySubcommandOptions(cmd *cli.Command, cfg *config.Config) {
	cfg.Region = cmd.String("region")
	cfg.LogLevel = cmd.String("log-level")
	cfg.LogFormat = cmd.String("log-format")
	if cmd.IsSet("case-sensitive-usernames") {
		v := cmd.Bool("case-sensitive-usernames")
		cfg.CaseSensitiveUsernames = &v
	}
}

// showTrueDefaults makes the help show "(default: true)" for a bool flag that is on
// unless turned off: urfave/cli shows no default for a flag that takes no value, and
// such a flag is only ever turned off as --name=false.
func showTrueDefaults(flags []cli.Flag) []cli.Flag {
	for _, f := range flags {
		if b, ok := f.(*cli.BoolFlag); ok && b.Value && b.DefaultText == "" {
			b.DefaultText = "true"
		}
	}
	return flags
}

// headerFlag is --header, for run (in category) and enqueue alike.
func headerFlag(d config.Config, category string) cli.Flag {
	return &cli.StringFlag{Category: category, Name: "header", Value: string(d.Header),
		Usage:   "is the CSV's first row a header: auto (a username column, or one column whose first row is a word such as email, user or login), yes or no",
		Sources: env("header")}
}

// notConfig are flags that steer the command rather than set a Config field.
var notConfig = map[string]bool{"config": true, "help": true}

// setFlagsYAML renders the flags the user set (on the command line or through the
// environment) as a YAML document with the config file's keys, so that one decoder
// applies file and flags alike and an option can't mean two things.
func setFlagsYAML(cmd *cli.Command) ([]byte, error) {
	m := map[string]any{}
	for _, f := range cmd.Flags {
		name := f.Names()[0]
		if !cmd.IsSet(name) || notConfig[name] {
			continue
		}
		switch name {
		case "metadata":
			md, err := config.ParseKeyValues(name, cmd.StringSlice(name))
			if err != nil {
				return nil, err
			}
			m[name] = md
		default:
			v := cmd.Value(name)
			if s, ok := v.(fmt.Stringer); ok {
				v = s.String()
			}
			m[name] = v
		}
	}
	return yaml.Marshal(m)
}
