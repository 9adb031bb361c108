package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/fleet"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
)

const secretValue = "s3cr3t-Value-42"

func validConfig() config.Config {
	c := config.Default()
	c.ClientID = "client123"
	c.CSV = "users.csv"
	return c
}

func TestDefault(t *testing.T) {
	t.Parallel()

	c := config.Default()
	err := c.Validate()
	var fe *config.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "client-id", fe.Field)

	c.ClientID = "client123"
	err = c.Validate()
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "csv", fe.Field)

	c.CSV = "users.csv"
	require.NoError(t, c.Validate())

	require.Equal(t, 20.0, c.Rate)
	require.Equal(t, 0.0, c.Reserve)
	require.Equal(t, 1, c.Burst)
	require.Equal(t, 8, c.Workers)
	require.Equal(t, 8, c.MaxAttempts)
	require.Equal(t, 200*time.Millisecond, c.BackoffBase)
	require.Equal(t, 20*time.Second, c.BackoffMax)
	require.Equal(t, 10*time.Second, c.CallTimeout)
	require.Equal(t, 2*time.Minute, c.MaxOutage)
	require.Equal(t, "info", c.LogLevel)
	require.Equal(t, "auto", c.LogFormat)
	require.Equal(t, config.Secret(""), c.ClientSecret)
	require.Equal(t, 24*time.Hour, c.Cooldown)
	require.Equal(t, 30*time.Second, c.LedgerLease)
	require.Empty(t, c.LedgerTable, "the file ledger is the default")
	require.Zero(t, c.FleetRate, "no fleet budget by default")
	require.Empty(t, c.FleetName, "no default: --fleet-rate needs --fleet-name")
	require.Empty(t, c.LedgerRegion, "the campaign's region")
	require.Equal(t, 30*24*time.Hour, c.LedgerRetention)
	require.Equal(t, time.Second, c.FleetHeartbeat)
}

func TestValidateNamesTheField(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		mut   func(*config.Config)
		field string
	}{
		{"no client id", func(c *config.Config) { c.ClientID = "" }, "client-id"},
		{"client id with spaces", func(c *config.Config) { c.ClientID = " client123" }, "client-id"},
		{"client id too long", func(c *config.Config) { c.ClientID = strings.Repeat("a", 129) }, "client-id"},
		{"no csv", func(c *config.Config) { c.CSV = "" }, "csv"},
		{"rate 0", func(c *config.Config) { c.Rate = 0 }, "rate"},
		{"rate negative", func(c *config.Config) { c.Rate = -1 }, "rate"},
		{"rate NaN", func(c *config.Config) { c.Rate = math.NaN() }, "rate"},
		{"burst 0", func(c *config.Config) { c.Burst = 0 }, "burst"},
		{"reserve negative", func(c *config.Config) { c.Reserve = -1 }, "reserve"},
		{"reserve NaN", func(c *config.Config) { c.Reserve = math.NaN() }, "reserve"},
		{"reserve the whole rate", func(c *config.Config) { c.Reserve = c.Rate }, "reserve"},
		{"reserve the whole fleet rate", func(c *config.Config) { c.LedgerTable, c.FleetRate, c.FleetName, c.Reserve = "ledger", 10, "w", 10 }, "reserve"},
		{"reserve without adaptive", func(c *config.Config) { c.Reserve, c.Adaptive = 2, false }, "reserve"},
		{"workers 0", func(c *config.Config) { c.Workers = 0 }, "workers"},
		{"workers 1025", func(c *config.Config) { c.Workers = 1025 }, "workers"},
		{"max attempts 0", func(c *config.Config) { c.MaxAttempts = 0 }, "max-attempts"},
		{"max attempts 101", func(c *config.Config) { c.MaxAttempts = 101 }, "max-attempts"},
		{"backoff base 0", func(c *config.Config) { c.BackoffBase = 0 }, "backoff-base"},
		{"backoff max below base", func(c *config.Config) { c.BackoffMax = c.BackoffBase - 1 }, "backoff-max"},
		{"call timeout 0", func(c *config.Config) { c.CallTimeout = 0 }, "call-timeout"},
		{"max outage negative", func(c *config.Config) { c.MaxOutage = -time.Second }, "max-outage"},
		{"daily budget negative", func(c *config.Config) { c.DailyBudget = -1 }, "daily-budget"},
		{"budget reset not HH:MM", func(c *config.Config) { c.BudgetReset = "9am" }, "budget-reset"},
		{"budget reset out of range", func(c *config.Config) { c.BudgetReset = "24:00" }, "budget-reset"},
		{"region with spaces", func(c *config.Config) { c.Region = "eu west 1" }, "region"},
		{"region typo", func(c *config.Config) { c.Region = "eu-west-1x" }, "region"},
		{"blank analytics id", func(c *config.Config) { c.AnalyticsEndpointID = "   " }, "analytics-endpoint-id"},
		{"empty metadata key", func(c *config.Config) { c.Metadata = map[string]string{"": "x"} }, "metadata"},
		{"report txt", func(c *config.Config) { c.Report = "out.txt" }, "report"},
		{"report no extension", func(c *config.Config) { c.Report = "out" }, "report"},
		{"report dotted dir", func(c *config.Config) { c.Report = "dir.csv/out" }, "report"},
		{"log level", func(c *config.Config) { c.LogLevel = "trace" }, "log-level"},
		{"log level case", func(c *config.Config) { c.LogLevel = "INFO" }, "log-level"},
		{"log format", func(c *config.Config) { c.LogFormat = "xml" }, "log-format"},
		{"both sources", func(c *config.Config) { c.SQSQueueURL = "https://sqs.eu-west-1.amazonaws.com/1/q" }, "sqs-queue-url"},
		{"wait time negative", func(c *config.Config) { c.WaitTimeSeconds = -1 }, "wait-time-seconds"},
		{"wait time 21", func(c *config.Config) { c.WaitTimeSeconds = 21 }, "wait-time-seconds"},
		{"visibility timeout short", func(c *config.Config) { c.VisibilityTimeout = 9 * time.Second }, "visibility-timeout"},
		{"visibility timeout long", func(c *config.Config) { c.VisibilityTimeout = 12*time.Hour + time.Second }, "visibility-timeout"},
		{"max in flight negative", func(c *config.Config) { c.MaxInFlight = -1 }, "max-in-flight"},
		{"empty polls 0", func(c *config.Config) { c.EmptyPolls = 0 }, "empty-polls"},
		{"retry delay short", func(c *config.Config) { c.RetryDelay = 500 * time.Millisecond }, "retry-delay"},
		{"limit exceeded delay short", func(c *config.Config) { c.LimitExceededDelay = 30 * time.Minute }, "limit-exceeded-delay"},
		{"shutdown timeout 0", func(c *config.Config) { c.ShutdownTimeout = 0 }, "shutdown-timeout"},
		{"verify users without a pool", func(c *config.Config) { c.VerifyUsers = true }, "verify-users"},
		{"verify rate 0", func(c *config.Config) { c.VerifyRate = 0 }, "verify-rate"},
		{"verify rate above UserRead", func(c *config.Config) { c.VerifyRate = 121 }, "verify-rate"},
		{"verify with something else", func(c *config.Config) { c.VerifyWith = "AdminGetUser" }, "verify-with"},
		{"list rate above UserList", func(c *config.Config) { c.ListRate = 31 }, "list-rate"},
		{"created-after beside a csv", func(c *config.Config) { c.UserPoolID, c.CreatedAfter = "us-east-1_x", "72h" }, "created-after"},
		{"retry unknown alone", func(c *config.Config) { c.RetryUnknown = true }, "retry-unknown"},
		{"ledger table name", func(c *config.Config) { c.LedgerTable = "arn:aws:dynamodb:eu-west-1:1:table/t" }, "ledger-table"},
		{"cooldown negative", func(c *config.Config) { c.Cooldown = -time.Second }, "cooldown"},
		{"ledger lease short", func(c *config.Config) { c.LedgerTable, c.LedgerLease = "ledger", 2*time.Second }, "ledger-lease"},
		{"ledger lease under call timeout", func(c *config.Config) { c.LedgerTable, c.LedgerLease = "ledger", c.CallTimeout }, "ledger-lease"},
		{"campaign id control", func(c *config.Config) { c.CampaignID = "a\nb" }, "campaign-id"},
		{"retry failed without resume", func(c *config.Config) { c.RetryFailed = true }, "retry-failed"},
		{"retry failed in queue mode", func(c *config.Config) {
			c.CSV, c.SQSQueueURL, c.Report, c.Resume, c.RetryFailed = "", "https://sqs.eu-west-1.amazonaws.com/1/q", "r.csv", true, true
		}, "retry-failed"},
		{"header maybe", func(c *config.Config) { c.Header = "maybe" }, "header"},
		{"header YES", func(c *config.Config) { c.Header = "YES" }, "header"},
		{"header without csv", func(c *config.Config) { c.CSV, c.UserPoolID, c.Header = "", "us-east-1_x", csvsource.HeaderNo }, "header"},
		{"fleet rate without a table", func(c *config.Config) { c.FleetRate = 20 }, "fleet-rate"},
		{"fleet rate negative", func(c *config.Config) { c.LedgerTable, c.FleetRate = "ledger", -1 }, "fleet-rate"},
		{"fleet name blank", func(c *config.Config) { c.LedgerTable, c.FleetRate, c.FleetName = "ledger", 20, " " }, "fleet-name"},
		{"fleet heartbeat fast", func(c *config.Config) {
			c.LedgerTable, c.FleetRate, c.FleetName, c.FleetHeartbeat = "ledger", 20, "w", 10*time.Millisecond
		}, "fleet-heartbeat"},
		{"fleet rate below the floor", func(c *config.Config) { c.LedgerTable, c.FleetRate, c.FleetName = "ledger", 0.001, "w" }, "fleet-rate"},
		{"fleet rate without a name", func(c *config.Config) { c.LedgerTable, c.FleetRate = "ledger", 12 }, "fleet-name"},
		{"ledger region without a table", func(c *config.Config) { c.LedgerRegion = "eu-west-1" }, "ledger-region"},
		{"ledger region misspelt", func(c *config.Config) { c.LedgerTable, c.LedgerRegion = "ledger", "eu-west1" }, "ledger-region"},
		{"ledger retention negative", func(c *config.Config) { c.LedgerTable, c.LedgerRetention = "ledger", -time.Hour }, "ledger-retention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tt.mut(&c)
			err := c.Validate()
			var fe *config.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.field, fe.Field)
			require.True(t, strings.HasPrefix(err.Error(), "--"+tt.field+": "), err.Error())
		})
	}
}

// The fleet options' messages say what to do.
func TestValidateFleetMessages(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.LedgerTable, c.FleetRate, c.FleetName = "ledger", 0.001, "w"
	require.EqualError(t, c.Validate(), "--fleet-rate: must be 0 (off) or at least 0.1 requests/second for the whole fleet (got 0.001)")
	c.FleetRate, c.FleetName = 12, ""
	require.ErrorContains(t, c.Validate(), "--fleet-name: required with --fleet-rate")
}

// --rate beside --fleet-rate is ignored: valid, and reported for the campaign's WARN.
func TestRateIgnoredBesideFleetRate(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.LedgerTable, c.FleetRate, c.FleetName, c.Rate = "ledger", 12, "w", 10
	require.NoError(t, c.Validate())
	require.True(t, c.RateIgnored())
	c.Rate = pacing.RateDefault
	require.False(t, c.RateIgnored(), "--rate at its default")
	c.FleetRate, c.Rate = 0, 10
	require.False(t, c.RateIgnored(), "no fleet rate: --rate is the pace")
}

func TestValidateRateMessage(t *testing.T) {
	t.Parallel()

	c := validConfig()
	c.Rate = 0
	require.EqualError(t, c.Validate(), "--rate: must be a finite number > 0 requests/second (got 0)")
}

// --rate Inf and NaN used to pass (ETA 0s at +Inf/s); 0 and below never did.
func TestValidateRateNotFinite(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{math.Inf(1), math.Inf(-1), math.NaN(), 0, -1} {
		c := validConfig()
		c.Rate = r
		err := c.Validate()
		var fe *config.FieldError
		require.ErrorAs(t, err, &fe, "%v", r)
		require.Equal(t, "rate", fe.Field, "%v", r)
	}
}

// The --report error names every extension it takes, .ndjson included.
func TestReportExtensionMessage(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.Report = "out.txt"
	require.EqualError(t, c.Validate(), `--report: must end in .csv (a CSV report) or .jsonl / .ndjson (JSON lines) (got "out.txt")`)
}

func TestRateWarnings(t *testing.T) {
	t.Parallel()
	c := validConfig()
	require.Empty(t, c.Warnings(), "the default rate is under the quota")
	c.Rate = 50
	require.Empty(t, c.Warnings(), "at the default quota: no warning")
	c.Rate = 100000
	require.NoError(t, c.Validate(), "allowed: the quota is adjustable")
	w := c.Warnings()
	require.Len(t, w, 1)
	require.Contains(t, w[0], "--rate 100000 is above UserResourceRead's default 50/s: ")
	c.FleetRate, c.LedgerTable = 80, "t"
	require.Contains(t, c.Warnings()[0], "--fleet-rate 80 is above UserResourceRead's default 50/s")
}

func TestMetricsAddrNeedsAPort(t *testing.T) {
	t.Parallel()
	for addr, ok := range map[string]bool{"localhost": false, "127.0.0.1": false, "localhost:": false,
		"127.0.0.1:9090": true, ":9090": true, "[::1]:0": true} {
		c := validConfig()
		c.MetricsAddr = addr
		err := c.Validate()
		if ok {
			require.NoError(t, err, addr)
			continue
		}
		require.ErrorContains(t, err, "--metrics-addr: want host:port", addr)
	}
}

func TestParseTimeBound(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                          {},
		"2026-11-01T00:00:00Z":      time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		"2026-11-01T02:00:00+02:00": time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		"2026-12-04":                time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), // UTC midnight
		"3d":                        time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC),
		"0d":                        now,
		"72h":                       time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC),
		"90m":                       time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC),
	} {
		got, err := config.ParseTimeBound(in, now)
		require.NoError(t, err, in)
		require.True(t, want.Equal(got), "%s: got %s, want %s", in, got, want)
	}
	for _, in := range []string{"3days", "-3d", "d", "1.5d", "2026-13-01", "2026/12/04", "-72h", "yesterday"} {
		_, err := config.ParseTimeBound(in, now)
		require.Error(t, err, in)
		require.ErrorContains(t, err, "3d", in)
	}
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()

	for name, mut := range map[string]func(*config.Config){
		"stdin csv":          func(c *config.Config) { c.CSV = "-" },
		"sqs source":         func(c *config.Config) { c.CSV, c.SQSQueueURL = "", "https://sqs.eu-west-1.amazonaws.com/1/q" },
		"128-char client id": func(c *config.Config) { c.ClientID = strings.Repeat("a", 128) },
		"fractional rate":    func(c *config.Config) { c.Rate = 0.5 },
		"reserve below rate": func(c *config.Config) { c.Reserve = 2 },
		"reserve above --rate, below --fleet-rate": func(c *config.Config) {
			c.LedgerTable, c.FleetRate, c.FleetName, c.Rate, c.Reserve = "ledger", 100, "w", 5, 10
		},
		"1024 workers":         func(c *config.Config) { c.Workers = 1024 },
		"1 worker":             func(c *config.Config) { c.Workers = 1 },
		"100 attempts":         func(c *config.Config) { c.MaxAttempts = 100 },
		"backoff max == base":  func(c *config.Config) { c.BackoffMax = c.BackoffBase },
		"report csv":           func(c *config.Config) { c.Report = "dir.d/out.csv" },
		"report CSV uppercase": func(c *config.Config) { c.Report = "OUT.CSV" },
		"report jsonl":         func(c *config.Config) { c.Report = "out.jsonl" },
		"report ndjson":        func(c *config.Config) { c.Report = "out.ndjson" },
		"metadata":             func(c *config.Config) { c.Metadata = map[string]string{"k": ""} },
		"analytics id":         func(c *config.Config) { c.AnalyticsEndpointID = "ep-1" },
		"log debug json":       func(c *config.Config) { c.LogLevel, c.LogFormat = "debug", "json" },
		"log error text":       func(c *config.Config) { c.LogLevel, c.LogFormat = "error", "text" },
		"csv with the pool":    func(c *config.Config) { c.UserPoolID = "us-east-1_x" },
		"csv verified":         func(c *config.Config) { c.UserPoolID, c.VerifyUsers = "us-east-1_x", true },
		"queue verified": func(c *config.Config) {
			c.CSV, c.SQSQueueURL, c.UserPoolID, c.VerifyUsers = "", "https://sqs.eu-west-1.amazonaws.com/1/q", "us-east-1_x", true
		},
		"pool verified":         func(c *config.Config) { c.CSV, c.UserPoolID, c.VerifyUsers = "", "us-east-1_x", true },
		"verify rate 120":       func(c *config.Config) { c.VerifyRate = 120 },
		"case sensitive":        func(c *config.Config) { c.CaseSensitiveUsernames = new(true) },
		"pool created-after":    func(c *config.Config) { c.CSV, c.UserPoolID, c.CreatedAfter = "", "us-east-1_x", "72h" },
		"max outage 0 (never)":  func(c *config.Config) { c.MaxOutage = 0 },
		"region":                func(c *config.Config) { c.Region = "us-gov-west-1" },
		"ledger table":          func(c *config.Config) { c.LedgerTable = "cognito-resend-ledger" },
		"ledger, retry unknown": func(c *config.Config) { c.LedgerTable, c.RetryUnknown = "ledger", true },
		"cooldown 0 (forever)":  func(c *config.Config) { c.LedgerTable, c.Cooldown = "ledger", 0 },
		"short lease": func(c *config.Config) {
			c.LedgerTable, c.LedgerLease, c.CallTimeout = "ledger", 3*time.Second, 2*time.Second
		},
		"lease without table": func(c *config.Config) { c.LedgerLease = time.Second },
		"campaign id":         func(c *config.Config) { c.CampaignID = "spring-2026 resend" },
		"retry failed":        func(c *config.Config) { c.Report, c.Resume, c.RetryFailed = "r.csv", true, true },
		"header yes":          func(c *config.Config) { c.Header = csvsource.HeaderYes },
		"header no":           func(c *config.Config) { c.Header = csvsource.HeaderNo },
		"header auto, pool":   func(c *config.Config) { c.CSV, c.UserPoolID = "", "us-east-1_x" },
		"fleet rate":          func(c *config.Config) { c.LedgerTable, c.FleetRate, c.FleetName = "ledger", 40, "workers" },
		"fleet rate 0 (off)":  func(c *config.Config) { c.FleetRate, c.FleetHeartbeat = 0, 0 },
		"fleet rate at the floor": func(c *config.Config) {
			c.LedgerTable, c.FleetRate, c.FleetName = "ledger", fleet.MinRate, "w"
		},
		"fleet rate beside --rate at its default": func(c *config.Config) {
			c.LedgerTable, c.FleetRate, c.FleetName, c.Rate = "ledger", 12, "default", pacing.RateDefault
		},
		"ledger region":      func(c *config.Config) { c.LedgerTable, c.LedgerRegion = "ledger", "eu-central-2" },
		"ledger retention 0": func(c *config.Config) { c.LedgerTable, c.LedgerRetention = "ledger", 0 },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			mut(&c)
			require.NoError(t, c.Validate())
		})
	}
}

func TestApply(t *testing.T) {
	t.Parallel()

	t.Run("values and durations", func(t *testing.T) {
		t.Parallel()
		c := config.Default()
		doc := "client-id: abc\ncsv: users.csv\nrate: 5.5\nworkers: 3\nbackoff-base: 10s\nbackoff-max: 1m30s\ncall-timeout: 250ms\n" +
			"metadata:\n  campaign: spring\n  lang: fr\nreport: out.jsonl\nlog-level: debug\n"
		require.NoError(t, c.Apply([]byte(doc)))
		require.Equal(t, "abc", c.ClientID)
		require.Equal(t, "users.csv", c.CSV)
		require.Equal(t, 5.5, c.Rate)
		require.Equal(t, 3, c.Workers)
		require.Equal(t, 10*time.Second, c.BackoffBase)
		require.Equal(t, 90*time.Second, c.BackoffMax)
		require.Equal(t, 250*time.Millisecond, c.CallTimeout)
		require.Equal(t, map[string]string{"campaign": "spring", "lang": "fr"}, c.Metadata)
		require.Equal(t, "out.jsonl", c.Report)
		require.Equal(t, "debug", c.LogLevel)
		// Untouched keys keep their values.
		require.Equal(t, 8, c.MaxAttempts)
		require.Equal(t, "auto", c.LogFormat)
		require.NoError(t, c.Validate())
	})
	t.Run("user checks", func(t *testing.T) {
		t.Parallel()
		c := config.Default()
		require.Nil(t, c.CaseSensitiveUsernames, "not set: the pool's setting or the default decides")
		require.Equal(t, 10.0, c.VerifyRate)
		require.Empty(t, c.VerifyWith, "not set: listusers once --verify-users is on")
		on := config.Default()
		require.NoError(t, on.Apply([]byte("client-id: abc\ncsv: u.csv\nuser-pool-id: us-east-1_x\nverify-users: true\n")))
		require.NoError(t, on.Validate())
		require.Equal(t, "listusers", on.VerifyWith, "ListUsers by default: it bills no user")
		require.Equal(t, 5.0, c.ListRate)
		doc := "client-id: abc\ncsv: users.csv\nuser-pool-id: us-east-1_x\nverify-users: true\nverify-rate: 25\ncase-sensitive-usernames: false\n" +
			"verify-with: admin-get-user\n"
		require.NoError(t, c.Apply([]byte(doc)))
		require.Equal(t, "admin-get-user", c.VerifyWith)
		require.True(t, c.VerifyUsers)
		require.Equal(t, 25.0, c.VerifyRate)
		require.NotNil(t, c.CaseSensitiveUsernames, "an explicit false is set")
		require.False(t, *c.CaseSensitiveUsernames)
		require.False(t, c.PoolSource(), "beside --csv the pool is not the source")
		require.NoError(t, c.Validate())
	})
	t.Run("the ledger table", func(t *testing.T) {
		t.Parallel()
		c := config.Default()
		require.NoError(t, c.Apply([]byte("ledger-table: cognito-resend-ledger\ncooldown: 0s\nledger-lease: 45s\ncampaign-id: spring\n"+
			"ledger-region: eu-west-1\nledger-retention: 720h\n")))
		require.Equal(t, "eu-west-1", c.LedgerRegion)
		require.Equal(t, 720*time.Hour, c.LedgerRetention)
		require.Equal(t, "cognito-resend-ledger", c.LedgerTable)
		require.Equal(t, time.Duration(0), c.Cooldown)
		require.Equal(t, 45*time.Second, c.LedgerLease)
		require.Equal(t, "spring", c.CampaignID)
	})
	t.Run("the fleet rate", func(t *testing.T) {
		t.Parallel()
		c := config.Default()
		require.NoError(t, c.Apply([]byte("ledger-table: ledger\nfleet-rate: 45.5\nfleet-name: workers\nfleet-heartbeat: 2s\n")))
		require.Equal(t, 45.5, c.FleetRate)
		require.Equal(t, "workers", c.FleetName)
		require.Equal(t, 2*time.Second, c.FleetHeartbeat)
	})
	t.Run("unknown key is named", func(t *testing.T) {
		t.Parallel()
		c := config.Default()
		err := c.Apply([]byte("rate: 5\nworkerz: 3\n"))
		require.Error(t, err)
		require.Contains(t, err.Error(), "workerz")
	})
	t.Run("the secret can't come from a file", func(t *testing.T) {
		t.Parallel()
		for _, key := range []string{"client-secret", "ClientSecret", "clientsecret"} {
			c := config.Default()
			err := c.Apply([]byte(key + ": " + secretValue + "\n"))
			require.Error(t, err, key)
			require.Contains(t, err.Error(), key)
			require.NotContains(t, err.Error(), secretValue)
			require.Equal(t, config.Secret(""), c.ClientSecret)
		}
	})
	t.Run("bad duration", func(t *testing.T) {
		t.Parallel()
		c := config.Default()
		require.Error(t, c.Apply([]byte("backoff-base: soon\n")))
	})
	t.Run("empty document is a no-op", func(t *testing.T) {
		t.Parallel()
		for _, doc := range []string{"", "  \n\t\n"} {
			c := config.Default()
			require.NoError(t, c.Apply([]byte(doc)))
			require.Equal(t, config.Default(), c)
		}
	})
}

func TestLoadFile(t *testing.T) {
	t.Parallel()

	t.Run("applies", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "c.yaml")
		require.NoError(t, os.WriteFile(path, []byte("rate: 7\ncall-timeout: 3s\n"), 0o600))
		c := config.Default()
		require.NoError(t, c.LoadFile(path))
		require.Equal(t, 7.0, c.Rate)
		require.Equal(t, 3*time.Second, c.CallTimeout)
	})
	t.Run("unknown key names file and key", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "c.yaml")
		require.NoError(t, os.WriteFile(path, []byte("ratee: 7\n"), 0o600))
		c := config.Default()
		err := c.LoadFile(path)
		require.ErrorContains(t, err, path)
		require.ErrorContains(t, err, "ratee")
	})
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		c := config.Default()
		err := c.LoadFile(filepath.Join(t.TempDir(), "nope.yaml"))
		var fe *config.FieldError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "config", fe.Field)
	})
}

func TestYAMLRoundTrip(t *testing.T) {
	t.Parallel()

	c := validConfig()
	c.Metadata = map[string]string{"campaign": "spring"}
	c.BackoffBase = 10 * time.Second
	c.BackoffMax = 90 * time.Second
	c.Report = "r.csv"
	c.ClientSecret = secretValue
	y, err := c.YAML()
	require.NoError(t, err)
	require.Contains(t, string(y), "backoff-base: 10s\n")
	require.Contains(t, string(y), "client-id: client123\n")

	var back config.Config
	require.NoError(t, back.Apply(y))
	// Compared as YAML: back also knows which options were given (Given), c does not.
	yBack, err := back.YAML()
	require.NoError(t, err)
	require.Equal(t, string(y), string(yBack))
	require.Empty(t, back.ClientSecret)
	require.True(t, back.Given("report"), "an option in the document is given")
	require.False(t, c.Given("report"), "an option set in Go is not")
}

func TestLoadSecret(t *testing.T) {
	t.Parallel()

	env := func(v string) func(string) string {
		return func(k string) string {
			if k == config.EnvClientSecret {
				return v
			}
			return ""
		}
	}
	writeSecret := func(t *testing.T, content string) string {
		path := filepath.Join(t.TempDir(), "secret")
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		return path
	}

	t.Run("from env", func(t *testing.T) {
		t.Parallel()
		c := validConfig()
		require.NoError(t, c.LoadSecret(env("  "+secretValue+"\n")))
		require.Equal(t, []byte(secretValue), c.ClientSecret.Reveal())
	})
	t.Run("from file", func(t *testing.T) {
		t.Parallel()
		c := validConfig()
		c.ClientSecretFile = writeSecret(t, secretValue+"\n")
		require.NoError(t, c.LoadSecret(env("")))
		require.Equal(t, []byte(secretValue), c.ClientSecret.Reveal())
	})
	t.Run("neither", func(t *testing.T) {
		t.Parallel()
		c := validConfig()
		c.ClientSecret = "stale"
		require.NoError(t, c.LoadSecret(env("")))
		require.Equal(t, config.Secret(""), c.ClientSecret)
		require.Empty(t, c.ClientSecret.Reveal())
	})
	t.Run("both", func(t *testing.T) {
		t.Parallel()
		c := validConfig()
		c.ClientSecretFile = writeSecret(t, secretValue)
		err := c.LoadSecret(env("other"))
		var fe *config.FieldError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "client-secret-file", fe.Field)
		require.Contains(t, err.Error(), config.EnvClientSecret)
		require.NotContains(t, err.Error(), secretValue)
		require.NotContains(t, err.Error(), "other")
		require.Equal(t, config.Secret(""), c.ClientSecret)
		require.Contains(t, err.Error(), "--client-secret-file are set")
	})
	t.Run("both, the file from its environment variable", func(t *testing.T) {
		t.Parallel()
		c := validConfig()
		c.ClientSecretFile = writeSecret(t, secretValue)
		err := c.LoadSecret(func(k string) string {
			switch k {
			case config.EnvClientSecret:
				return "other"
			case config.EnvClientSecretFile:
				return c.ClientSecretFile
			}
			return ""
		})
		require.EqualError(t, err, "--client-secret-file: both COGNITO_CLIENT_SECRET and COGNITO_RESEND_CLIENT_SECRET_FILE are set; use one")
	})
	t.Run("empty file", func(t *testing.T) {
		t.Parallel()
		c := validConfig()
		c.ClientSecretFile = writeSecret(t, " \n\t\n")
		err := c.LoadSecret(env(""))
		require.EqualError(t, err, "--client-secret-file: file is empty")
	})
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		c := validConfig()
		c.ClientSecretFile = filepath.Join(t.TempDir(), "nope")
		err := c.LoadSecret(env(""))
		var fe *config.FieldError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "client-secret-file", fe.Field)
		require.Contains(t, err.Error(), "cannot read")
	})
}

func TestSecretNeverShown(t *testing.T) {
	t.Parallel()

	c := validConfig()
	c.ClientSecret = secretValue
	c.Metadata = map[string]string{"k": "v"}

	outputs := map[string]string{
		"%v":          fmt.Sprintf("%v", c),
		"%+v":         fmt.Sprintf("%+v", c),
		"%#v":         fmt.Sprintf("%#v", c),
		"%v pointer":  fmt.Sprintf("%v", &c),
		"%+v pointer": fmt.Sprintf("%+v", &c),
		"%#v pointer": fmt.Sprintf("%#v", &c),
		"Println":     fmt.Sprintln(c),
		"secret %v":   fmt.Sprintf("%v", c.ClientSecret),
		"secret %s":   fmt.Sprintf("%s", c.ClientSecret),
		"secret %q":   fmt.Sprintf("%q", c.ClientSecret),
		"secret %#v":  fmt.Sprintf("%#v", c.ClientSecret),
		"secret %x":   fmt.Sprintf("%x", c.ClientSecret),
	}
	y, err := c.YAML()
	require.NoError(t, err)
	outputs["YAML"] = string(y)
	j, err := json.Marshal(c)
	require.NoError(t, err)
	outputs["json"] = string(j)
	j, err = json.Marshal(&c)
	require.NoError(t, err)
	outputs["json pointer"] = string(j)
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("config", "cfg", c, "secret", c.ClientSecret)
		outputs[fmt.Sprintf("slog %T", h(&buf))] = buf.String()
	}

	for how, out := range outputs {
		require.NotContains(t, out, secretValue, how)
		require.NotContains(t, out, fmt.Sprintf("%x", secretValue), how)
	}
	require.Contains(t, outputs["%+v"], "ClientSecret:[REDACTED]")
	require.Contains(t, outputs["json"], `"ClientSecret":"[REDACTED]"`)
	require.NotContains(t, outputs["YAML"], "REDACTED", "the secret key is left out of YAML entirely")
	require.Equal(t, "[REDACTED]", c.ClientSecret.String())
	require.Equal(t, "", config.Secret("").String())
	require.Equal(t, []byte(secretValue), c.ClientSecret.Reveal())
}

func TestSecretNeverShownOddVerbs(t *testing.T) {
	t.Parallel()

	c := validConfig()
	c.ClientSecret = secretValue
	for _, verb := range []string{"%d", "%t", "%08d"} {
		out := fmt.Sprintf(verb, c) // deliberately wrong verb
		require.NotContains(t, out, secretValue, verb)
		out = fmt.Sprintf(verb, c.ClientSecret)
		require.NotContains(t, out, secretValue, verb)
	}
}

func TestFieldError(t *testing.T) {
	t.Parallel()

	err := error(&config.FieldError{Field: "rate", Msg: "bad"})
	require.EqualError(t, err, "--rate: bad")
	var fe *config.FieldError
	require.True(t, errors.As(fmt.Errorf("wrapped: %w", err), &fe))
	require.Equal(t, "rate", fe.Field)
}

// The YAML errors name the line and the key in the operator's words: no Go types.
func TestApplyErrorMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"unknown key with suggestion", "client-id: abc\ncsv: users.csv\nrat: 5\n",
			[]string{`line 3: unknown option "rat" (did you mean "rate"?)`}},
		{"swapped letters", "wokrers: 3\n", []string{`line 1: unknown option "wokrers" (did you mean "workers"?)`}},
		{"underscores", "max_attempts: 3\n", []string{`line 1: unknown option "max_attempts" (did you mean "max-attempts"?)`}},
		{"nothing close", "frobnicate: 3\n", []string{`line 1: unknown option "frobnicate"`}},
		{"float", "\n\n\n\nrate: fast\n", []string{`line 5: rate: want a number, got "fast"`}},
		{"int", "workers: 2.5\n", []string{`line 1: workers: want a whole number, got "2.5"`}},
		{"bool", "adaptive: maybe\n", []string{`line 1: adaptive: want true or false, got "maybe"`}},
		{"duration without unit", "visibility-timeout: 30\n", []string{`line 1: visibility-timeout: want a duration such as 500ms, 30s, 5m or 1h30m, got "30"`}},
		{"list for a number", "rate:\n  - 1\n", []string{`line 2: rate: want a number, got a list`}},
		{"nested metadata", "metadata:\n  team: ops\n  lang: {a: b}\n", []string{`line 3: metadata: want KEY: VALUE pairs, got a mapping under "lang"`}},
		{"byte size", "report-max-size: 64Q\n", []string{`line 1: report-max-size: want a size in bytes such as 67108864, 64MiB or 100MB, got "64Q"`}},
		{"set twice", "rate: 5\nburst: 2\nrate: 6\n", []string{`line 3: rate is set twice (first on line 1)`}},
		{"long value cut", "rate: " + strings.Repeat("x", 60) + "\n", []string{`line 1: rate: want a number, got "` + strings.Repeat("x", 40) + `…"`}},
		{"every error at once", "rat: 5\nworkers: many\n", []string{`line 1: unknown option "rat" (did you mean "rate"?)`, `line 2: workers: want a whole number, got "many"`}},
		{"syntax", "rate: 5\n\tworkers: 3\n", []string{`line 2: not valid YAML: found a tab character that violates indentation`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			err := c.Apply([]byte(tc.doc))
			require.Error(t, err)
			require.Equal(t, strings.Join(tc.want, "\n"), err.Error())
			var oe *config.OptionError
			require.ErrorAs(t, err, &oe)
			for _, goName := range []string{"config.Config", "float64", "int", "bool", "time.Duration", "!!", "unmarshal"} {
				require.NotContains(t, err.Error(), goName)
			}
		})
	}
}

func TestLoadFileErrorsNameFileAndLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "campaign.yaml")
	require.NoError(t, os.WriteFile(path, []byte("client-id: abc\ncsv: users.csv\nrat: 5\nworkers: 3\nrate: fast\n"), 0o600))
	c := config.Default()
	err := c.LoadFile(path)
	require.EqualError(t, err, path+`: line 3: unknown option "rat" (did you mean "rate"?)`+"\n"+
		path+`: line 5: rate: want a number, got "fast"`)
	var oe *config.OptionError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, path, oe.File)
	require.Equal(t, 3, oe.Line)
	require.Equal(t, "rat", oe.Key)
}

// A secret in the config file is refused with the reason and where to put it instead;
// its value is never repeated.
func TestSecretKeyRefusedWithReason(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"client-secret", "client_secret", "secret", "ClientSecret", "clientsecret", "app-client-secret"} {
		c := config.Default()
		err := c.Apply([]byte("rate: 5\n" + key + ": " + secretValue + "\n"))
		require.Error(t, err, key)
		msg := err.Error()
		require.True(t, strings.HasPrefix(msg, "line 2: "+key+": the client secret is never read from the command line or a config file"), msg)
		require.Contains(t, msg, config.EnvClientSecret)
		require.Contains(t, msg, "--client-secret-file")
		require.NotContains(t, msg, secretValue)
		require.Equal(t, config.Secret(""), c.ClientSecret)
	}
	// The file option itself is not a secret; a misspelling of it is an unknown key.
	c := config.Default()
	require.NoError(t, c.Apply([]byte("client-secret-file: /run/secrets/cognito\n")))
	err := c.Apply([]byte("client_secret_file: /run/secrets/cognito\n"))
	require.EqualError(t, err, `line 1: unknown option "client_secret_file" (did you mean "client-secret-file"?)`)
}

// What is not a config file (a secret file given as --config, a list) and the values of
// unknown keys are never echoed.
func TestValuesNotEchoed(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		secretValue + "\n",
		"\"" + secretValue + "\"\n",
		"- " + secretValue + "\n",
		"token: " + secretValue + "\n",
		"`" + secretValue + "\n",
		"{" + secretValue + "\n",
	} {
		c := config.Default()
		err := c.Apply([]byte(doc))
		require.Error(t, err, doc)
		require.NotContains(t, err.Error(), secretValue, doc)
		require.NotContains(t, err.Error(), secretValue[:6], doc)
	}
	c := config.Default()
	err := c.Apply([]byte(secretValue + "\n"))
	require.EqualError(t, err, "line 1: want option: value lines (rate: 5), got a single value; is this a cognito-resend config file?")
}

func TestApplyFlagsNamesTheFlag(t *testing.T) {
	t.Parallel()
	c := config.Default()
	err := c.ApplyFlags([]byte("report-max-size: 64Q\n"))
	var fe *config.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "report-max-size", fe.Field)
	require.EqualError(t, err, `--report-max-size: want a size in bytes such as 67108864, 64MiB or 100MB, got "64Q"`)
	require.NoError(t, c.ApplyFlags([]byte("rate: 7\n")))
	require.Equal(t, 7.0, c.Rate)
}

func TestClosest(t *testing.T) {
	t.Parallel()
	names := []string{"rate", "burst", "workers", "max-attempts", "max-in-flight", "csv", "report", "report-keep", "resume", "yes", "help", "h"}
	for got, want := range map[string]string{
		"rat": "rate", "--rat": "rate", "Rate": "rate", "rtae": "rate", "wokrers": "workers", "workrs": "workers",
		"cvs": "csv", "max_attempts": "max-attempts", "max-attempt": "max-attempts", "max-in": "max-in-flight",
		"reprot": "report", "yse": "yes", "hlep": "help",
		// Nothing close enough: no guess.
		"frobnicate": "", "x": "", "ra": "", "max": "", "": "", "--": "",
	} {
		require.Equal(t, want, config.Closest(got, names), "Closest(%q)", got)
	}
}

// With --fleet-rate, --rate is not the ceiling: the reserve is judged against the fleet's.
func TestValidateReserveNamesTheCeiling(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.LedgerTable, c.FleetRate, c.FleetName, c.Reserve = "ledger", 10, "w", 12
	require.ErrorContains(t, c.Validate(), "below --fleet-rate (10)")
	c.FleetRate, c.Reserve = 0, 25
	require.ErrorContains(t, c.Validate(), "below --rate (20)")
}

// A queue worker's --daily-budget without the table is per process: said at start.
func TestDailyBudgetPerProcessWarning(t *testing.T) {
	c := config.Default()
	c.DailyBudget = 40
	// A CSV campaign's budget is its report's: other reports spend their own (trial finding 5).
	require.Equal(t, []string{"--daily-budget 40 without --ledger-table: this budget counts only this report's " +
		"sends; campaigns on other reports spend their own; share one with --ledger-table"}, c.Warnings())
	c.SQSQueueURL = "http://127.0.0.1:1/000000000000/q"
	require.Len(t, c.Warnings(), 1)
	require.Contains(t, c.Warnings()[0], "every replica of the queue sends up to 40 a window")
	c.LedgerTable = "ledger"
	require.Empty(t, c.Warnings(), "the table shares one budget")
}

// The --invitations options: a pool to call AdminCreateUser on, verification beside a
// CSV or a queue (the state picks the message), a delivery medium of Cognito's, and a
// rate within the UserCreation quota.
func TestValidateInvitations(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		mut  func(*config.Config)
		want string // "" = valid
	}{
		{"csv without pool", func(c *config.Config) { c.Invitations = true }, "--invitations: needs --user-pool-id"},
		{"csv without verify", func(c *config.Config) { c.Invitations, c.UserPoolID = true, "us-east-1_p" },
			"--invitations: beside --csv or --sqs-queue-url needs --verify-users"},
		{"csv with verify", func(c *config.Config) { c.Invitations, c.UserPoolID, c.VerifyUsers = true, "us-east-1_p", true }, ""},
		{"pool source", func(c *config.Config) { c.Invitations, c.UserPoolID, c.CSV = true, "us-east-1_p", "" }, ""},
		{"delivery sms", func(c *config.Config) {
			c.Invitations, c.UserPoolID, c.CSV, c.InvitationDelivery = true, "us-east-1_p", "", "sms"
		}, ""},
		{"delivery fax", func(c *config.Config) {
			c.Invitations, c.UserPoolID, c.CSV, c.InvitationDelivery = true, "us-east-1_p", "", "FAX"
		}, `--invitation-delivery: must be EMAIL or SMS, or unset for Cognito's default (got "FAX")`},
		{"delivery without invitations", func(c *config.Config) { c.InvitationDelivery = "EMAIL" },
			"--invitation-delivery: only makes sense with --invitations"},
		{"rate 0", func(c *config.Config) { c.InvitationRate = 0 }, "--invitation-rate: must be > 0 and <= 50"},
		{"rate NaN", func(c *config.Config) { c.InvitationRate = math.NaN() }, "--invitation-rate"},
		{"rate above the quota", func(c *config.Config) { c.InvitationRate = 51 }, "--invitation-rate"},
	} {
		c := validConfig()
		tt.mut(&c)
		err := c.Validate()
		if tt.want == "" {
			require.NoError(t, err, tt.name)
			continue
		}
		require.ErrorContains(t, err, tt.want, tt.name)
	}
	c := validConfig()
	require.Equal(t, 10.0, c.InvitationRate, "InvitationRateDefault")
	c.InvitationDelivery = " email "
	require.Equal(t, "EMAIL", c.InvitationMedium())
}

// --verify-with takes the API's spelling in any case, says the accepted values when
// wrong, and is refused without --verify-users (alone it checks nothing).
func TestVerifyWith(t *testing.T) {
	t.Parallel()
	base := "client-id: abc\ncsv: u.csv\nuser-pool-id: us-east-1_x\n"
	for in, want := range map[string]string{"ListUsers": "listusers", "listusers": "listusers", "AdminGetUser": "admin-get-user",
		"admin-get-user": "admin-get-user", "ADMIN_GET_USER": "admin-get-user"} {
		c := config.Default()
		require.NoError(t, c.Apply([]byte(base+"verify-users: true\nverify-with: "+in+"\n")))
		require.NoError(t, c.Validate(), in)
		require.Equal(t, want, c.VerifyWith, in)
		require.NoError(t, c.Validate(), "validated twice: the same")
	}
	c := config.Default()
	require.NoError(t, c.Apply([]byte(base+"verify-users: true\nverify-with: getuser\n")))
	require.EqualError(t, c.Validate(), `--verify-with: must be listusers (ListUsers: bills no user) or admin-get-user `+
		`(AdminGetUser: makes each checked user a billed monthly active user) (got "getuser")`)
	c = config.Default()
	require.NoError(t, c.Apply([]byte(base+"verify-with: listusers\n")))
	require.EqualError(t, c.Validate(), "--verify-with: says how --verify-users reads each user's state, but --verify-users "+
		"is not set: nothing would be checked. Add --verify-users (with --user-pool-id), or drop --verify-with")
}

// --budget-reset without --daily-budget is said at start (trial finding 7): it counts
// nothing, only sets when a stop at Cognito's daily email limit names the next window.
func TestBudgetResetWithoutBudgetWarning(t *testing.T) {
	t.Parallel()
	c := config.Default()
	require.NoError(t, c.Apply([]byte("budget-reset: \"06:00\"\n")))
	require.Contains(t, c.Warnings(), "--budget-reset without --daily-budget counts no budget: it only sets when "+
		"a stop at Cognito's daily email limit says the next window opens")
	require.NoError(t, c.Apply([]byte("daily-budget: 5\n")))
	for _, w := range c.Warnings() {
		require.NotContains(t, w, "--budget-reset without --daily-budget")
	}
}
