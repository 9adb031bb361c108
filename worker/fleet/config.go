package fleet

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// Defaults and bounds of the fleet flags.
const (
	// RateDefault is --fleet-rate: 0, no fleet budget (each replica paces at --rate).
	RateDefault = 0.0
	// NameDefault is the name of a Member whose Config names none. The command line has no
	// default: --fleet-rate needs --fleet-name, so that a run against a shared table (an
	// operator's laptop against the production table) joins a fleet only when told which.
	// Replicas under one name share one budget; other names have budgets of their own.
	NameDefault = "default"
	// MinRate bounds --fleet-rate from below: one call every 10 s for the whole fleet. Less
	// is a typo (0.001 would send a thousand users' codes in 11 days), not a budget.
	MinRate = 0.1
	// HeartbeatDefault is --fleet-heartbeat: each replica writes its record and reads the
	// fleet this often. A killed replica stops counting ExpiryBeats heartbeats after its
	// last one (3 s), and the others see it within one more.
	HeartbeatDefault = time.Second
	// MinHeartbeat and MaxHeartbeat bound --fleet-heartbeat.
	MinHeartbeat = 200 * time.Millisecond
	MaxHeartbeat = 30 * time.Second
)

// ExpiryBeats is how many heartbeat intervals a record keeps its replica alive: two
// heartbeats may be lost or late without the fleet changing its shares.
const ExpiryBeats = 3

// StrandedFraction is the share, as a fraction of the fleet rate, of a replica that
// cannot tell whether the fleet still counts it (its last heartbeat record has expired,
// or it has not read the fleet for ExpiryBeats intervals): the others may already have
// taken its share, so it paces at a trickle until a heartbeat lands again.
const StrandedFraction = 0.01

// Config configures a Member. Zero fields get the XxxDefault values.
type Config struct {
	API DynamoDBFleetAPI
	// Table is the ledger table (--ledger-table); Region its region, named in errors.
	Table  string
	Region string
	// Name is the fleet's name (--fleet-name, default NameDefault).
	Name string
	// Replica identifies this replica (the ledger's owner id); required.
	Replica string
	// Campaign is written in the record, for people reading the table.
	Campaign string
	// Rate is the fleet's budget, requests/second (--fleet-rate); required, > 0. When
	// live replicas were given different rates (a rolling change), the lowest one is the
	// fleet's: the total never exceeds what any live replica was told.
	Rate float64
	// Heartbeat is the interval of the heartbeat and of the fleet read.
	Heartbeat time.Duration
	// CallTimeout bounds each table call (default: the heartbeat interval: an answer
	// later than that is a missed heartbeat anyway); Retry is a failed call's schedule.
	CallTimeout time.Duration
	Retry       pacing.Policy
	Logger      *slog.Logger
	Metrics     dynamoledger.Recorder // the heartbeats' table calls; nil: nothing recorded
	Clock       clock.Clock
}

// ValidName says why name can't be a fleet's ("" if it can).
func ValidName(name string) string {
	if name == "" || len(name) > 128 || strings.TrimSpace(name) != name || strings.ContainsFunc(name, unicode.IsControl) {
		return "must be 1-128 characters, without control characters or surrounding spaces"
	}
	return ""
}

func (c *Config) defaults() error {
	switch {
	case c.API == nil || c.Table == "" || c.Replica == "" || c.Clock == nil:
		return errors.New("fleet: API, Table, Replica and Clock are required")
	case !(c.Rate > 0) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("fleet: Rate must be > 0 (got %v)", c.Rate)
	}
	if c.Name == "" {
		c.Name = NameDefault
	}
	if msg := ValidName(c.Name); msg != "" {
		return fmt.Errorf("fleet: name %q %s", c.Name, msg)
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = HeartbeatDefault
	}
	c.Heartbeat = min(max(c.Heartbeat, MinHeartbeat), MaxHeartbeat)
	if c.CallTimeout <= 0 {
		c.CallTimeout = c.Heartbeat
	}
	if c.Retry.Attempts <= 0 {
		// Three tries within about one interval: a heartbeat later than that is missed.
		c.Retry = pacing.Policy{Attempts: 3, Base: c.Heartbeat / 10, Max: c.Heartbeat / 4}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// The timings, all in heartbeat intervals I (1 s by default).
func (c *Config) expiry() time.Duration { return ExpiryBeats * c.Heartbeat }

// hold is how long a replica that joins waits before taking a share: every replica
// already running reads the fleet at least once an interval, so after 1.5 I each has
// counted the newcomer and cut its own share.
func (c *Config) hold() time.Duration { return c.Heartbeat * 3 / 2 }

// ramp is how long a share takes to rise to a higher target (a newcomer from half its
// share; a survivor to its larger one); a lower target applies at once.
func (c *Config) ramp() time.Duration { return c.Heartbeat }

// step is how often the share is applied to the limiter while it ramps.
func (c *Config) step() time.Duration { return c.Heartbeat / 4 }
