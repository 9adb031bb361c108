package dynamoledger

import (
	"errors"
	"log/slog"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// Defaults of the ledger flags and of Config's zero fields.
const (
	// CooldownDefault is --cooldown: how long a send blocks another one (a sign-up code
	// is valid for 24 hours). 0 keeps records of sends for ever.
	CooldownDefault = 24 * time.Hour
	// LeaseDefault is --ledger-lease: how long a claim stays live without a renewal.
	// Renewed every third of it while held, a live holder never loses it; a dead one's
	// claims are Busy for at most this long, then `unknown` to whoever meets them. Long
	// enough to outlast a call in flight (--call-timeout, 10 s) plus a missed renewal,
	// short enough that a killed pod's users are settled within a minute.
	LeaseDefault = 30 * time.Second
	// RetentionDefault is --ledger-retention: how long a record stays readable after its
	// last possible send (ledger show, ledger list: "why didn't alice get a code?" is asked
	// days later). It never shortens --cooldown; TTL deletes the record after it.
	RetentionDefault = 30 * 24 * time.Hour
	// MinLease bounds --ledger-lease from below (renewals every second at most).
	MinLease = 3 * time.Second
	// ClaimsInFlightDefault bounds the claims a replica writes at once
	// (engine.Engine.ClaimsInFlight). A claim put a stalled table never answers may land
	// after the replica gave up, leaving a claim without a call that is reported unknown
	// after its lease: at most this many users per replica and stall. A put takes
	// milliseconds, so two in flight carry far more than Cognito's quota.
	ClaimsInFlightDefault = 2
	// CallTimeoutDefault bounds each table call.
	CallTimeoutDefault = 3 * time.Second
)

// RetryDefault is the schedule of a failed table call (throttles, 5xx, timeouts,
// connection errors): 4 attempts, 100 ms doubling to 1 s, about 1 s in all before the
// campaign stops, plus the calls' own timeouts.
var RetryDefault = pacing.Policy{Attempts: 4, Base: 100 * time.Millisecond, Max: time.Second}

// Config configures a Ledger. Zero fields get the XxxDefault values, except Cooldown
// (zero keeps sends for ever) and Retention (zero: as long as Cooldown).
type Config struct {
	API DynamoDBAPI
	// Table is the ledger table's name; Region its region, named in errors (API is a
	// client in that region).
	Table  string
	Region string
	// ClientID is the app client: part of every user's key.
	ClientID string
	// Case is how the pool compares usernames (the campaign's case rule): a
	// case-insensitive pool's users are keyed lowercased.
	Case admit.Case
	// Owner identifies this process in the records (default ReplicaID()).
	Owner string
	// Campaign identifies the campaign in the records.
	Campaign string
	// Lease is a claim's lease; it is renewed every Lease/3 (RenewInterval).
	Lease time.Duration
	// Cooldown is how long a send blocks another one; 0: for ever.
	Cooldown time.Duration
	// Retention is how long a record stays in the table after its last possible send,
	// for the people who read it (ledger show, ledger list); never less than Cooldown.
	// It moves expires_at (the TTL), not the claim rule: this run's Cooldown still says
	// when a send stops blocking another one.
	Retention time.Duration
	// RetryUnknown takes over claims whose lease ran out (and records marked UNKNOWN)
	// instead of reporting them `unknown`: their users are called again.
	RetryUnknown bool
	// CallTimeout bounds each table call; Retry is the schedule of a failed one.
	CallTimeout time.Duration
	Retry       pacing.Policy
	Logger      *slog.Logger
	Metrics     Recorder // nil: nothing recorded
	Clock       clock.Clock
}

func (c *Config) defaults() error {
	if c.API == nil || c.Table == "" || c.ClientID == "" || c.Clock == nil {
		return errors.New("dynamoledger: API, Table, ClientID and Clock are required")
	}
	if c.Owner == "" {
		c.Owner = ReplicaID()
	}
	if c.Lease <= 0 {
		c.Lease = LeaseDefault
	}
	c.Lease = max(c.Lease, MinLease)
	if c.CallTimeout <= 0 {
		c.CallTimeout = CallTimeoutDefault
	}
	if c.Retry.Attempts <= 0 {
		c.Retry = RetryDefault
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// keep is how long after its last possible send a record lives (its expires_at): the
// cooldown, or the retention when longer; 0 (for ever) with cooldown 0.
func (c *Config) keep() time.Duration {
	if c.Cooldown <= 0 {
		return 0
	}
	return max(c.Cooldown, c.Retention)
}

// RenewInterval is how often a held claim is renewed for a lease: a third of it, so a
// renewal can fail once and be retried before the claim expires.
func RenewInterval(lease time.Duration) time.Duration { return lease / 3 }
