// Package config holds cognito-resend's one Config struct, its defaults, its YAML file
// form and Validate. Keys in the file are the command-line flag names, so an option is
// spelled the same everywhere; precedence is flags > environment > file > defaults.
package config

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/fleet"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
	"github.com/cognito-resend/cognito-resend/worker/source/sqssource"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
	"go.yaml.in/yaml/v3"
)

// Env variables with a meaning outside a single flag.
const (
	EnvClientID     = "COGNITO_CLIENT_ID"
	EnvClientSecret = "COGNITO_CLIENT_SECRET" // the only way besides a file to pass the secret
	// EnvClientSecretFile is --client-secret-file's environment variable (named in errors
	// when the file came from it).
	EnvClientSecretFile = "COGNITO_RESEND_CLIENT_SECRET_FILE"
)

// Secret holds the app client secret. It never prints, logs or marshals its value.
type Secret string

const redacted = "[REDACTED]"

func (s Secret) String() string               { return s.mask() }
func (s Secret) GoString() string             { return s.mask() }
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }
func (s Secret) MarshalYAML() (any, error)    { return s.mask(), nil }
func (s Secret) Reveal() []byte               { return []byte(s) }

// Format masks the value under every verb: fmt skips String for a mismatched verb
// (e.g. %d) and would print the raw value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.mask()) }
func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Config is every option of cognito-resend.
type Config struct {
	// Cognito
	ClientID            string            `yaml:"client-id"`
	ClientSecret        Secret            `yaml:"-"` // env or file only, never argv or the config file
	ClientSecretFile    string            `yaml:"client-secret-file"`
	Region              string            `yaml:"region"`
	Metadata            map[string]string `yaml:"metadata"`
	AnalyticsEndpointID string            `yaml:"analytics-endpoint-id"`

	// Source: exactly one of these.
	CSV         string `yaml:"csv"`
	SQSQueueURL string `yaml:"sqs-queue-url"`
	// Header is whether the CSV's first row is a header: auto, yes or no.
	Header csvsource.Header `yaml:"header"`

	// Queue mode
	WaitTimeSeconds    int           `yaml:"wait-time-seconds"`
	VisibilityTimeout  time.Duration `yaml:"visibility-timeout"`
	MaxInFlight        int           `yaml:"max-in-flight"`
	ExitWhenEmpty      bool          `yaml:"exit-when-empty"`
	EmptyPolls         int           `yaml:"empty-polls"`
	RetryDelay         time.Duration `yaml:"retry-delay"`
	LimitExceededDelay time.Duration `yaml:"limit-exceeded-delay"`
	ShutdownTimeout    time.Duration `yaml:"shutdown-timeout"`
	MetricsAddr        string        `yaml:"metrics-addr"`

	// The user pool. Alone (no --csv or --sqs-queue-url) it is the source: its
	// UNCONFIRMED users. Beside another source it names the pool that --verify-users
	// checks. Either way its username case rule is read (DescribeUserPool).
	UserPoolID    string  `yaml:"user-pool-id"`
	ListRate      float64 `yaml:"list-rate"`
	PageSize      int     `yaml:"page-size"`
	CreatedAfter  string  `yaml:"created-after"`  // RFC 3339, a date (UTC midnight), or a duration ago such as 72h or 3d
	CreatedBefore string  `yaml:"created-before"` // same

	// What is true of each user before the resend.
	VerifyUsers bool    `yaml:"verify-users"` // each user's state before the resend
	VerifyRate  float64 `yaml:"verify-rate"`  // AdminGetUser calls/s (UserRead quota)
	// VerifyWith is how --verify-users learns a user's state: listusers (the default:
	// ListUsers, which bills no user) or admin-get-user (AdminGetUser per user: each
	// becomes a billed monthly active user).
	VerifyWith string `yaml:"verify-with"`
	// Invitations (docs/invitations.md): an admin-created user (FORCE_CHANGE_PASSWORD)
	// gets their invitation resent, AdminCreateUser with MessageAction=RESEND.
	Invitations bool `yaml:"invitations"`
	// InvitationDelivery is EMAIL or SMS (DesiredDeliveryMediums); "": unset, Cognito's
	// own default applies (SMS, says the AdminCreateUser API reference).
	InvitationDelivery string  `yaml:"invitation-delivery"`
	InvitationRate     float64 `yaml:"invitation-rate"` // AdminCreateUser calls/s (UserCreation quota)

	// CaseSensitiveUsernames: how usernames compare when the pool's setting can't be
	// read. nil: not set anywhere (case-insensitive).
	CaseSensitiveUsernames *bool `yaml:"case-sensitive-usernames,omitempty"`

	// Safety and operator interface
	DryRun           bool          `yaml:"dry-run"`
	Yes              bool          `yaml:"yes"`
	Progress         string        `yaml:"progress"` // auto, bar, log, none
	ProgressInterval time.Duration `yaml:"progress-interval"`

	// Pace and retries
	Rate        float64       `yaml:"rate"`
	Adaptive    bool          `yaml:"adaptive"`
	Reserve     float64       `yaml:"reserve"` // requests/s left to the rest of the account
	Burst       int           `yaml:"burst"`
	Workers     int           `yaml:"workers"`
	MaxAttempts int           `yaml:"max-attempts"`
	BackoffBase time.Duration `yaml:"backoff-base"`
	BackoffMax  time.Duration `yaml:"backoff-max"`
	CallTimeout time.Duration `yaml:"call-timeout"`
	MaxOutage   time.Duration `yaml:"max-outage"` // 0: wait out any outage

	// Report
	Report       string `yaml:"report"`
	Resume       bool   `yaml:"resume"`
	RetryUnknown bool   `yaml:"retry-unknown"`
	RetryFailed  bool   `yaml:"retry-failed"`
	// StartIfMissing: with --resume, a --report that does not exist yet starts the
	// campaign (automation that starts or continues: a Kubernetes Job re-applied
	// unchanged); without it --resume onto a missing report is a usage error.
	StartIfMissing bool `yaml:"start-if-missing"`
	// ReportMaxSize rotates the report and its ledger once the report reaches this size
	// (queue mode only). nil: not set anywhere, see ReportRotateSize.
	ReportMaxSize *ByteSize `yaml:"report-max-size,omitempty"`
	ReportKeep    int       `yaml:"report-keep"` // rotated report+ledger pairs kept

	// Shared ledger (a DynamoDB table): see docs/ledger-table.md.
	LedgerTable string `yaml:"ledger-table"`
	// LedgerRegion is the table's region; "" is the campaign's (--region, else the chain).
	LedgerRegion string        `yaml:"ledger-region"`
	Cooldown     time.Duration `yaml:"cooldown"` // 0: records of sends never expire
	// LedgerRetention keeps finished records readable (ledger show, ledger list) this
	// long, at least --cooldown; with --cooldown 0 they are kept for ever.
	LedgerRetention time.Duration `yaml:"ledger-retention"`
	LedgerLease     time.Duration `yaml:"ledger-lease"` // a claim's lease, renewed every third of it
	CampaignID      string        `yaml:"campaign-id"`  // "" = derived from the source and the start time

	// Coordinated mode: one rate for the fleet, split among the replicas alive in the
	// ledger table (docs/fleet.md, "Running a fleet"). FleetRate 0: off.
	FleetRate      float64       `yaml:"fleet-rate"`
	FleetName      string        `yaml:"fleet-name"`
	FleetHeartbeat time.Duration `yaml:"fleet-heartbeat"`

	// Lambda mode (`cognito-resend lambda`, docs/lambda.md): the SQS event source mapping
	// delivers the messages; no other source. Lambda is set by the command, never by a file.
	Lambda bool `yaml:"-"`
	// MaxReceiveCount is the queue's redrive policy maxReceiveCount (0: no DLQ): a poison
	// message is a batch item failure while the redrive can still move it to the DLQ.
	MaxReceiveCount int `yaml:"max-receive-count"`
	// Daily send budget (docs/long-campaigns.md): at most DailyBudget messages per
	// window, the windows beginning at BudgetReset (HH:MM UTC) every day. 0: no budget.
	DailyBudget int    `yaml:"daily-budget"`
	BudgetReset string `yaml:"budget-reset"`
	// given is the options set by a flag, the environment or the config file (Given):
	// a resumed campaign keeps its recorded daily budget unless it is given again.
	given map[string]bool
	// origin is where a given option came from when not a flag (SetOrigin): the messages
	// that refuse its value name it, not a flag the operator never typed.
	origin map[string]string

	// Logging
	LogLevel  string `yaml:"log-level"`
	LogFormat string `yaml:"log-format"`

	// Ledger is what a ledger command (show, list) asks of the table: arguments and
	// options of those commands only (commands.go), never a config file's.
	Ledger LedgerQuery `yaml:"-"`
}

// Default is the configuration before file, environment and flags. Every default of a
// mechanism is that package's exported XxxDefault constant, which its constructors use
// for a zero field too: a default is written once.
func Default() Config {
	return Config{
		Rate:        pacing.RateDefault,
		Adaptive:    pacing.AdaptiveDefault,
		Reserve:     pacing.ReserveDefault,
		Burst:       pacing.BurstDefault,
		Workers:     engine.WorkersDefault,
		MaxAttempts: pacing.AttemptsDefault,
		BackoffBase: pacing.BackoffBaseDefault,
		BackoffMax:  pacing.BackoffMaxDefault,
		CallTimeout: cognito.CallTimeoutDefault,
		MaxOutage:   pacing.MaxOutageDefault,
		LogLevel:    "info",
		LogFormat:   "auto",

		Header: csvsource.HeaderDefault,

		ListRate:   userpool.ListRateDefault,
		VerifyRate: userpool.VerifyRateDefault,
		PageSize:   userpool.PageSizeMax,
		Progress:   "auto",

		InvitationRate: cognito.InvitationRateDefault,

		ProgressInterval: 10 * time.Second,

		WaitTimeSeconds:    sqssource.WaitTimeSecondsDefault,
		VisibilityTimeout:  sqssource.VisibilityTimeoutDefault,
		EmptyPolls:         sqssource.EmptyPollsDefault,
		RetryDelay:         sqssource.RetryDelayDefault,
		LimitExceededDelay: sqssource.LimitExceededDelayDefault,
		ShutdownTimeout:    engine.ShutdownTimeoutDefault,

		ReportKeep: records.KeepDefault,

		Cooldown:        dynamoledger.CooldownDefault,
		LedgerLease:     dynamoledger.LeaseDefault,
		LedgerRetention: dynamoledger.RetentionDefault,

		BudgetReset: budget.ResetDefault,

		FleetRate:      fleet.RateDefault,
		FleetHeartbeat: fleet.HeartbeatDefault, // --fleet-name has none: see Validate
	}
}

// PoolSource reports whether the user pool is the source: --user-pool-id without --csv or
// --sqs-queue-url (in Lambda mode the event source mapping is the source).
func (c *Config) PoolSource() bool {
	return c.UserPoolID != "" && c.CSV == "" && c.SQSQueueURL == "" && !c.Lambda
}

// DefaultQueueReportMaxSize is --report-max-size in queue mode when it is not given:
// a long-lived worker's report must not outgrow its volume.
const DefaultQueueReportMaxSize ByteSize = records.QueueRotateSizeDefault

// ReportRotateSize is the report size that triggers a rotation; 0 never rotates. When
// --report-max-size is not given it is DefaultQueueReportMaxSize in queue mode, else 0.
func (c *Config) ReportRotateSize() int64 {
	if c.ReportMaxSize != nil {
		return int64(*c.ReportMaxSize)
	}
	if c.SQSQueueURL != "" {
		return int64(DefaultQueueReportMaxSize)
	}
	return 0
}

// ByteSize is a number of bytes, written as an integer or with a unit: B, K/KB, M/MB,
// G/GB, T/TB (powers of 1000) or Ki/KiB, Mi/MiB, Gi/GiB, Ti/TiB (powers of 1024), in any
// case: 65536, 64KiB, 64MiB, 1G.
type ByteSize int64

var byteUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20,
	"gi": 1 << 30, "gib": 1 << 30, "ti": 1 << 40, "tib": 1 << 40,
}

const sizeWant = "a size in bytes such as 67108864, 64MiB or 100MB"

// ParseByteSize reads a ByteSize: digits, optional spaces, an optional unit.
func ParseByteSize(s string) (ByteSize, error) {
	v := strings.TrimSpace(s)
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	unit, ok := byteUnits[strings.ToLower(strings.TrimSpace(v[i:]))]
	if i == 0 || !ok {
		return 0, fmt.Errorf("want %s, got %q", sizeWant, s)
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return ByteSize(n * unit), nil
}

// String writes the size with the largest binary unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.n == 0 {
			return strconv.FormatInt(int64(b)/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalYAML writes the size as String does.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// UnmarshalYAML reads an integer or a size with a unit.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want %s, got %s", sizeWant, kindName(n))
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// minReportMaxSize keeps a mistyped --report-max-size (64 instead of 64MiB) from
// rotating after every group of rows.
const minReportMaxSize ByteSize = 1 << 10

// normalizeVerifyWith takes --verify-with as written or in the API's spelling, any case
// (ListUsers, AdminGetUser), and refuses it without --verify-users: alone it would do
// nothing, and an operator who typed it believes users are checked. Unset, it is the
// default (listusers) once --verify-users is on. The pool source ignores it: its
// listing already gives each user's state.
func (c *Config) normalizeVerifyWith() error {
	v := c.VerifyWith
	switch strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(v))) {
	case "":
		v = ""
	case "listusers":
		v = userpool.VerifyWithListUsers
	case "admingetuser":
		v = userpool.VerifyWithAdminGetUser
	default:
		return bad("verify-with", "must be %s (ListUsers: bills no user) or %s (AdminGetUser: makes each checked user "+
			"a billed monthly active user) (got %q)", userpool.VerifyWithListUsers, userpool.VerifyWithAdminGetUser, c.VerifyWith)
	}
	switch {
	case v != "" && !c.VerifyUsers:
		return bad("verify-with", "says how --verify-users reads each user's state, but --verify-users is not set: "+
			"nothing would be checked. Add --verify-users (with --user-pool-id), or drop --verify-with")
	case v == "" && c.VerifyUsers:
		v = userpool.VerifyWithDefault
	}
	c.VerifyWith = v
	return nil
}

// FieldError names the option that is wrong, by its flag name.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return fmt.Sprintf("--%s: %s", e.Field, e.Msg) }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks the configuration and names the first bad field.
func (c *Config) Validate() error {
	if err := c.validateLambda(); err != nil {
		return err
	}
	if err := c.normalizeVerifyWith(); err != nil {
		return err
	}
	switch {
	case c.ClientID == "":
		return bad("client-id", "required (or set %s)", EnvClientID)
	case strings.TrimSpace(c.ClientID) != c.ClientID || len(c.ClientID) > 128:
		return bad("client-id", "must be 1-128 characters without surrounding spaces")
	case c.CSV == "" && c.SQSQueueURL == "" && c.UserPoolID == "" && !c.Lambda && c.Invitations:
		return bad("invitations", "needs a source, and --user-pool-id in any case: --user-pool-id ID alone (the pool's "+
			"UNCONFIRMED and admin-created users), or --csv FILE / --sqs-queue-url URL with --user-pool-id ID --verify-users")
	case c.CSV == "" && c.SQSQueueURL == "" && c.UserPoolID == "" && !c.Lambda:
		return bad("csv", "a source is required: --csv FILE (or - for standard input), --user-pool-id ID or --sqs-queue-url URL")
	case c.SQSQueueURL != "" && c.CSV != "":
		return bad("sqs-queue-url", "choose one source: --csv, --user-pool-id or --sqs-queue-url "+
			"(beside --csv or --sqs-queue-url, --user-pool-id names the pool for --verify-users)")
	case c.VerifyUsers && c.UserPoolID == "":
		return bad("verify-users", "needs --user-pool-id: the user pool whose users AdminGetUser checks")
	case !(c.VerifyRate > 0) || c.VerifyRate > userpool.VerifyRateMax:
		return bad("verify-rate", "must be > 0 and <= %v AdminGetUser calls/s, the account's UserRead quota (got %v)",
			userpool.VerifyRateMax, c.VerifyRate)
	case !(c.ListRate > 0) || c.ListRate > userpool.ListRateMax:
		return bad("list-rate", "must be > 0 and <= %v ListUsers calls/s, the account's UserList quota (got %v)", userpool.ListRateMax, c.ListRate)
	case c.PageSize < 1 || c.PageSize > userpool.PageSizeMax:
		return bad("page-size", "must be 1..%d (got %d)", userpool.PageSizeMax, c.PageSize)
	case (c.CreatedAfter != "" || c.CreatedBefore != "") && !c.PoolSource():
		return bad("created-after", "--created-after/--created-before filter a --user-pool-id campaign")
	case c.ProgressInterval < 100*time.Millisecond:
		return bad("progress-interval", "must be >= 100ms (got %s)", c.ProgressInterval)
	case c.Progress != "auto" && c.Progress != "bar" && c.Progress != "log" && c.Progress != "none":
		return bad("progress", "must be auto, bar, log or none (got %q)", c.Progress)
	case c.WaitTimeSeconds < 0 || c.WaitTimeSeconds > sqssource.MaxWaitTimeSeconds:
		return bad("wait-time-seconds", "must be 0..20 (got %d)", c.WaitTimeSeconds)
	case c.VisibilityTimeout < 10*time.Second || c.VisibilityTimeout > sqssource.MaxVisibility:
		return bad("visibility-timeout", "must be 10s..12h (got %s)", c.VisibilityTimeout)
	case c.MaxInFlight < 0:
		return bad("max-in-flight", "must be >= 0 (0 = twice --workers; got %d)", c.MaxInFlight)
	case c.EmptyPolls < 1:
		return bad("empty-polls", "must be >= 1 (got %d)", c.EmptyPolls)
	case c.RetryDelay < time.Second || c.RetryDelay > 12*time.Hour:
		return bad("retry-delay", "must be 1s..12h (got %s)", c.RetryDelay)
	case c.LimitExceededDelay < job.LimitWindow || c.LimitExceededDelay > 12*time.Hour:
		return bad("limit-exceeded-delay", "must be %s..12h: Cognito's per-user limit is hourly (got %s)", job.LimitWindow, c.LimitExceededDelay)
	case c.Resume && c.Report == "" && c.resumeHint() != "":
		return bad("resume", "needs --report: the report of the campaign to continue; %s", c.resumeHint())
	case c.Resume && c.Report == "":
		return bad("resume", "needs --report: the report of the campaign to continue")
	case c.RetryUnknown && !c.Resume && c.LedgerTable == "":
		return bad("retry-unknown", "only makes sense with --resume or --ledger-table")
	case c.LedgerTable != "" && dynamoledger.ValidTableName(c.LedgerTable) != "":
		return bad("ledger-table", "%s (got %q)", dynamoledger.ValidTableName(c.LedgerTable), c.LedgerTable)
	case c.Cooldown < 0:
		return bad("cooldown", "must be >= 0 (0 keeps records of sends for ever; got %s)", c.Cooldown)
	case c.LedgerRetention < 0:
		return bad("ledger-retention", "must be >= 0 (records are kept at least --cooldown; got %s)", c.LedgerRetention)
	case c.LedgerRegion != "" && c.LedgerTable == "":
		return bad("ledger-region", "is the region of --ledger-table; this campaign has none")
	case c.ValidateLedgerRegion() != nil:
		return c.ValidateLedgerRegion()
	case c.LedgerTable != "" && c.LedgerLease < dynamoledger.MinLease:
		return bad("ledger-lease", "must be >= %s (got %s)", dynamoledger.MinLease, c.LedgerLease)
	case c.LedgerTable != "" && c.LedgerLease <= c.CallTimeout:
		return bad("ledger-lease", "must be longer than --call-timeout (%s): a call in flight must end within its claim's lease (got %s)", c.CallTimeout, c.LedgerLease)
	case !(c.FleetRate >= 0) || math.IsInf(c.FleetRate, 0):
		return bad("fleet-rate", "must be >= 0 requests/second for the whole fleet (0: off; got %v)", c.FleetRate)
	case c.FleetRate > 0 && c.LedgerTable == "":
		return bad("fleet-rate", "needs --ledger-table: the replicas that share the fleet rate find each other in "+
			"the shared table (create it with: cognito-resend ledger init --ledger-table NAME)")
	case c.FleetRate > 0 && c.FleetRate < fleet.MinRate:
		return bad("fleet-rate", "must be 0 (off) or at least %v requests/second for the whole fleet (got %v)", fleet.MinRate, c.FleetRate)
	case c.FleetRate > 0 && c.FleetName == "":
		return bad("fleet-name", "required with --fleet-rate: the fleet that shares the budget in the table (every "+
			"replica of one fleet gives the same name), so that no run joins a fleet it was not told to, such as "+
			"another deployment's on the same table")
	case c.FleetRate > 0 && fleet.ValidName(c.FleetName) != "":
		return bad("fleet-name", "%s (got %q)", fleet.ValidName(c.FleetName), c.FleetName)
	case c.FleetRate > 0 && (c.FleetHeartbeat < fleet.MinHeartbeat || c.FleetHeartbeat > fleet.MaxHeartbeat):
		return bad("fleet-heartbeat", "must be %s..%s (got %s)", fleet.MinHeartbeat, fleet.MaxHeartbeat, c.FleetHeartbeat)
	case len(c.CampaignID) > 256 || strings.ContainsFunc(c.CampaignID, unicode.IsControl):
		return bad("campaign-id", "must be at most 256 characters without control characters")
	case c.StartIfMissing && !c.Resume:
		return bad("start-if-missing", "only makes sense with --resume: it lets --resume start the campaign when --report does not exist yet")
	case c.RetryFailed && !c.Resume:
		return bad("retry-failed", "only makes sense with --resume: it calls again the users whose latest row in the --report is failed, or limit_exceeded more than %s ago", job.LimitWindow)
	case c.RetryFailed && c.SQSQueueURL != "":
		return bad("retry-failed", "queue mode retries through the queue: a failed message comes back after --retry-delay, limit_exceeded after --limit-exceeded-delay; --retry-failed is for CSV and pool campaigns")
	case c.ValidateHeader() != nil:
		return c.ValidateHeader()
	case c.Header != "" && c.Header != csvsource.HeaderDefault && c.CSV == "":
		return bad("header", "says how to read a --csv file's first row; this campaign has no --csv")
	case c.ReportMaxSize != nil && *c.ReportMaxSize != 0 && *c.ReportMaxSize < minReportMaxSize:
		return bad("report-max-size", "must be 0 (never rotate) or at least %s (got %s)", minReportMaxSize, *c.ReportMaxSize)
	case c.ReportMaxSize != nil && *c.ReportMaxSize != 0 && c.SQSQueueURL == "":
		return bad("report-max-size", "rotation is for queue mode (--sqs-queue-url): --resume of a CSV or pool campaign needs its whole report")
	case c.ReportKeep < 0 || c.ReportKeep > 10000:
		return bad("report-keep", "must be 0..10000 rotated report+ledger pairs (got %d)", c.ReportKeep)
	case c.ShutdownTimeout <= 0:
		return bad("shutdown-timeout", "must be > 0 (got %s)", c.ShutdownTimeout)
	case !(c.Rate > 0) || math.IsInf(c.Rate, 0):
		return bad("rate", "must be a finite number > 0 requests/second (got %v)", c.Rate)
	case !(c.Reserve >= 0) || c.Reserve >= c.Ceiling():
		return bad("reserve", "must be >= 0 and below %s (%v) requests/second (got %v)", c.ceilingFlag(), c.Ceiling(), c.Reserve)
	case c.Reserve > 0 && !c.Adaptive:
		return bad("reserve", "needs --adaptive (the default): with --adaptive=false the rate is held at --rate and no throttle rate is learned to stay below; lower --rate instead")
	case c.Burst < 1:
		return bad("burst", "must be >= 1 (got %d)", c.Burst)
	case c.Workers < 1 || c.Workers > 1024:
		return bad("workers", "must be 1..1024 (got %d)", c.Workers)
	case c.MaxAttempts < 1 || c.MaxAttempts > 100:
		return bad("max-attempts", "must be 1..100 (got %d)", c.MaxAttempts)
	case c.BackoffBase <= 0:
		return bad("backoff-base", "must be > 0 (got %s)", c.BackoffBase)
	case c.BackoffMax < c.BackoffBase:
		return bad("backoff-max", "must be >= --backoff-base (got %s)", c.BackoffMax)
	case c.CallTimeout <= 0:
		return bad("call-timeout", "must be > 0 (got %s)", c.CallTimeout)
	case c.DailyBudget < 0:
		return bad("daily-budget", "must be >= 0 messages per window (0: no budget; got %d)", c.DailyBudget)
	case c.ValidateBudgetReset() != nil:
		return c.ValidateBudgetReset()
	case c.MaxOutage < 0:
		return bad("max-outage", "must be >= 0 (0 waits out any outage; got %s)", c.MaxOutage)
	case c.AnalyticsEndpointID != "" && strings.TrimSpace(c.AnalyticsEndpointID) == "":
		return bad("analytics-endpoint-id", "must not be blank")
	case c.SQSQueueURL != "" && checkQueueURL(c.SQSQueueURL) != nil:
		return checkQueueURL(c.SQSQueueURL)
	case c.MetricsAddr != "" && checkListenAddr(c.MetricsAddr) != nil:
		return bad("metrics-addr", "%v", checkListenAddr(c.MetricsAddr))
	}
	if err := c.validateInvitations(); err != nil {
		return err
	}
	if c.Region != "" {
		if err := CheckRegion(c.Region); err != nil {
			return bad("region", "%v", err)
		}
	}
	for field, v := range map[string]string{"created-after": c.CreatedAfter, "created-before": c.CreatedBefore} {
		if _, err := ParseTimeBound(v, time.Time{}); err != nil { // only the form matters here
			return bad(field, "%v", err)
		}
	}
	for k := range c.Metadata {
		if k == "" {
			return bad("metadata", "keys must not be empty (use KEY=VALUE)")
		}
	}
	if c.Report != "" {
		if _, err := records.FormatForPath(c.Report); err != nil {
			return bad("report", "must end in .csv (a CSV report) or .jsonl / .ndjson (JSON lines) (got %q)", c.Report)
		}
	}
	return c.ValidateLogging()
}

// regionShape is the shape of every AWS region name: a partition prefix, one or more
// words, a number (us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1, and the regions
// to come). It accepts every regionRegex of the SDK's partitions.json
// (TestRegionShapeCoversSDKPartitions).
var regionShape = regexp.MustCompile(`^[a-z]{2,}(-[a-z]+)+-[0-9]+$`)

// CheckRegion checks a region name's syntax (the error does not name the field), so that a typo is a usage error before any
// call rather than one failed row per user ("invalid input region") or a DNS lookup of
// a host that can't exist. Whether the region exists is for DNS to say.
func CheckRegion(region string) error {
	if regionShape.MatchString(region) {
		return nil
	}
	msg := fmt.Sprintf("%q is not an AWS region name (like us-east-1, eu-central-2, us-gov-west-1)", region)
	if strings.Contains(region, "fips") {
		msg += "; for FIPS endpoints set AWS_USE_FIPS_ENDPOINT=true with the plain region"
	}
	return errors.New(msg)
}

// ValidateLedgerRegion checks --ledger-region (the part of Validate that the ledger
// commands share).
func (c *Config) ValidateLedgerRegion() error {
	if c.LedgerRegion == "" {
		return nil
	}
	if err := CheckRegion(c.LedgerRegion); err != nil {
		return bad("ledger-region", "%v", err)
	}
	return nil
}

// ValidateHeader checks --header (the part of Validate that enqueue shares).
func (c *Config) ValidateHeader() error {
	if !c.Header.Valid() {
		return bad("header", "must be auto, yes or no (got %q)", c.Header)
	}
	return nil
}

// ValidateLogging checks --log-level and --log-format (the part of Validate that
// enqueue shares).
func (c *Config) ValidateLogging() error {
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log-level", "must be debug, info, warn or error (got %q)", c.LogLevel)
	}
	switch c.LogFormat {
	case "auto", "text", "json":
	default:
		return bad("log-format", "must be auto, text or json (got %q)", c.LogFormat)
	}
	return nil
}

// ParseTimeBound reads a --created-after/--created-before value: an RFC 3339 time, a
// date (2026-12-04: that day's midnight, UTC), or a duration meaning that long before now
// (72h, or 3d = three days ago). Empty is the zero time.
func ParseTimeBound(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil // UTC midnight
	}
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err == nil && days >= 0 && days <= maxDaysAgo {
			return now.AddDate(0, 0, -days), nil
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time (2026-11-01T00:00:00Z), a date (2026-11-01, UTC midnight) "+
			"or a time ago (72h, 3d), got %q", v)
	}
	return now.Add(-d), nil
}

// maxDaysAgo bounds a --created-* value in days (a typo of a year, not a date).
const maxDaysAgo = 100 * 366

// checkListenAddr checks --metrics-addr's form: host:port, the host optional (":9090").
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("want host:port such as 127.0.0.1:9090 or :9090 (got %q: no port)", addr)
	}
	return nil
}

// WarnResetOnly is the warning of --budget-reset without any daily budget.
const WarnResetOnly = "--budget-reset without --daily-budget counts no budget: it only sets when a stop at " +
	"Cognito's daily email limit says the next window opens"

// Warnings are what is allowed but probably not meant, said once at the start of a run.
func (c *Config) Warnings() []string {
	var w []string
	if r := c.Ceiling(); r > cognito.QuotaDefault {
		w = append(w, fmt.Sprintf("%s %v is above %s's default %v/s: ResendConfirmationCode's quota, per account "+
			"and region, shared with your application; unless it was raised for this account, calls beyond it "+
			"are throttled (--adaptive cuts the rate back) and your application's calls in the category are too",
			c.ceilingFlag(), r, cognito.QuotaCategory, cognito.QuotaDefault))
	}
	if c.DailyBudget > 0 && c.SQSQueueURL != "" && c.LedgerTable == "" {
		w = append(w, fmt.Sprintf("--daily-budget %d without --ledger-table is counted by this process alone (from its "+
			"report): every replica of the queue sends up to %[1]d a window; give them --ledger-table to share one budget",
			c.DailyBudget))
	}
	if c.DailyBudget > 0 && c.SQSQueueURL == "" && c.LedgerTable == "" {
		// Two campaigns (or a forgotten --report) would each spend the whole budget.
		w = append(w, fmt.Sprintf("--daily-budget %d without --ledger-table: this budget counts only this report's "+
			"sends; campaigns on other reports spend their own; share one with --ledger-table", c.DailyBudget))
	}
	if c.Given("budget-reset") && !c.Given("daily-budget") && c.DailyBudget <= 0 && !c.Resume {
		// Not an error: it still sets when the wait after Cognito's daily email limit ends.
		// A resumed report's record may bring the budget: the campaign says it then.
		w = append(w, WarnResetOnly)
	}
	return w
}

// LoadSecret fills ClientSecret from the environment or --client-secret-file. Setting
// both is an error: the operator must know which one is in force.
func (c *Config) LoadSecret(getenv func(string) string) error {
	env := getenv(EnvClientSecret)
	if c.ClientSecretFile != "" {
		if env != "" {
			from := "--client-secret-file"
			if getenv(EnvClientSecretFile) == c.ClientSecretFile {
				from = EnvClientSecretFile // the file came from the environment
			}
			return bad("client-secret-file", "both %s and %s are set; use one", EnvClientSecret, from)
		}
		b, err := os.ReadFile(c.ClientSecretFile)
		if err != nil {
			return bad("client-secret-file", "cannot read: %v", errors.Unwrap(err))
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return bad("client-secret-file", "file is empty")
		}
		c.ClientSecret = Secret(s)
		return nil
	}
	c.ClientSecret = Secret(strings.TrimSpace(env))
	return nil
}

// YAML renders the effective configuration; the secret is never included.
func (c *Config) YAML() ([]byte, error) {
	return yaml.Marshal(c)
}

// RateIgnored reports whether --rate was given a value of its own beside --fleet-rate,
// which replaces it: the campaign warns (a usage error would stop every replica of a
// deployment that carries both, mid-rollout). --rate at its default can't be told from
// --rate not given.
func (c *Config) RateIgnored() bool { return c.FleetRate > 0 && c.Rate != pacing.RateDefault }

// Ceiling is the highest rate a process paces at: --rate, or with --fleet-rate the fleet's
// (its share is at most all of it); ceilingFlag names the flag.
func (c *Config) Ceiling() float64 {
	if c.FleetRate > 0 {
		return c.FleetRate
	}
	return c.Rate
}

func (c *Config) ceilingFlag() string {
	if c.FleetRate > 0 {
		return "--fleet-rate"
	}
	return "--rate"
}

// Retry is the retries of every Cognito call (--max-attempts, --backoff-base,
// --backoff-max): the one place the policy is built from the options.
func (c *Config) Retry() pacing.Policy {
	return pacing.Policy{Attempts: c.MaxAttempts, Base: c.BackoffBase, Max: c.BackoffMax}
}

// Schedule is --budget-reset's windows (Validate has checked its form).
func (c *Config) Schedule() budget.Schedule {
	s, _ := budget.ParseReset(c.BudgetReset)
	return s
}

// ValidateBudgetReset checks --budget-reset: HH:MM in UTC.
func (c *Config) ValidateBudgetReset() error {
	if _, err := budget.ParseReset(c.BudgetReset); err != nil {
		return bad("budget-reset", "%v", err)
	}
	return nil
}

// validateInvitations checks the --invitations options (docs/invitations.md).
func (c *Config) validateInvitations() error {
	switch {
	case c.Invitations && c.UserPoolID == "":
		return bad("invitations", "needs --user-pool-id: the user pool whose admin-created users get their invitation "+
			"(AdminCreateUser is an administrator's call on a pool, not an app client's)")
	case c.Invitations && !c.PoolSource() && !c.VerifyUsers:
		return bad("invitations", "beside --csv or --sqs-queue-url needs --verify-users: the user's state "+
			"(FORCE_CHANGE_PASSWORD or UNCONFIRMED) decides which message they get, and only verification knows it")
	case c.InvitationDelivery != "" && !c.Invitations:
		return bad("invitation-delivery", "only makes sense with --invitations")
	case c.InvitationDelivery != "" && c.InvitationMedium() == "":
		return bad("invitation-delivery", "must be EMAIL or SMS, or unset for Cognito's default (got %q)",
			c.InvitationDelivery)
	case !(c.InvitationRate > 0) || math.IsInf(c.InvitationRate, 0) || c.InvitationRate > cognito.InvitationRateMax:
		return bad("invitation-rate", "must be > 0 and <= %v AdminCreateUser calls/s, the account's UserCreation quota, "+
			"shared with your application's SignUp and ConfirmSignUp (got %v)", cognito.InvitationRateMax, c.InvitationRate)
	}
	return nil
}

// InvitationMedium is --invitation-delivery, upper-cased: EMAIL, SMS, or "" (unset or
// not one of them).
func (c *Config) InvitationMedium() string {
	switch m := strings.ToUpper(strings.TrimSpace(c.InvitationDelivery)); m {
	case "EMAIL", "SMS":
		return m
	}
	return ""
}

// Given reports whether option key (its config file name, e.g. "daily-budget") was set
// by a flag, the environment or the config file, rather than left at its default.
func (c *Config) Given(key string) bool { return c.given[key] }

// SetOrigin records where option key's value came from: its environment variable's
// name, or "the config file PATH"; "" is its flag.
func (c *Config) SetOrigin(key, origin string) {
	if c.origin == nil {
		c.origin = map[string]string{}
	}
	c.origin[key] = origin
}

// Origin says where option key's value came from as a message names it: "--key" for its
// flag (or when nothing is recorded), else its environment variable or config file.
func (c *Config) Origin(key string) string {
	if o := c.origin[key]; o != "" {
		return o
	}
	return "--" + key
}
