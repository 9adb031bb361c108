package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Lambda mode's validation: the table is required, a file source, a report, a metrics
// address and a dry run are refused, and --max-receive-count is Lambda mode's alone.
func TestValidateLambda(t *testing.T) {
	t.Parallel()
	base := func() Config {
		c := Default()
		c.Lambda, c.ClientID, c.LedgerTable = true, "client", "ledger"
		return c
	}
	ok := base()
	require.NoError(t, ok.Validate())
	withPool := base()
	withPool.UserPoolID = "us-east-1_abc"
	require.NoError(t, withPool.Validate(), "the pool names --verify-users' and the case rule's pool")
	require.False(t, withPool.PoolSource())

	for field, mod := range map[string]func(*Config){
		"ledger-table":      func(c *Config) { c.LedgerTable = "" },
		"sqs-queue-url":     func(c *Config) { c.SQSQueueURL = "https://sqs.REGION.amazonaws.com/ACCOUNT_ID/q" },
		"csv":               func(c *Config) { c.CSV = "users.csv" },
		"report":            func(c *Config) { c.Report = "r.csv" },
		"resume":            func(c *Config) { c.Resume = true },
		"metrics-addr":      func(c *Config) { c.MetricsAddr = ":9090" },
		"dry-run":           func(c *Config) { c.DryRun = true },
		"max-receive-count": func(c *Config) { c.MaxReceiveCount = -1 },
		"invitations": func(c *Config) {
			c.UserPoolID, c.VerifyUsers, c.Invitations = "us-east-1_abc", true, true
		},
	} {
		c := base()
		mod(&c)
		var fe *FieldError
		require.ErrorAs(t, c.Validate(), &fe, field)
		require.Equal(t, field, fe.Field)
	}
	// A run option Lambda mode has no use for is refused when given, and only then.
	for _, o := range notInLambda {
		require.False(t, InLambda(o.option), o.option)
		c := base()
		c.given = map[string]bool{o.option: true}
		var fe *FieldError
		require.ErrorAs(t, c.Validate(), &fe, o.option)
		require.Equal(t, o.option, fe.Field)
		require.Contains(t, fe.Msg, "has no effect in Lambda mode ("+o.why+")")
	}
	// Each reason fits its option (the trial: --invitation-rate was told about the event
	// source mapping and the deadline).
	c0 := base()
	c0.given = map[string]bool{"invitation-rate": true}
	require.ErrorContains(t, c0.Validate(), "--invitations is not available in Lambda mode yet")
	require.NotContains(t, c0.Validate().Error(), "event source mapping")
	// Lambda's own descriptions exist only for options Lambda mode keeps.
	for o := range lambdaUsage {
		require.True(t, InLambda(o), o)
	}
	require.True(t, InLambda("ledger-table"))
	c := Default()
	c.ClientID, c.CSV, c.MaxReceiveCount = "client", "users.csv", 5
	var fe *FieldError
	require.ErrorAs(t, c.Validate(), &fe)
	require.Equal(t, "max-receive-count", fe.Field)
}
