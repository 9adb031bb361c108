package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/config"
)

// --sqs-queue-url must be a URL for run as for enqueue: a queue name or an ARN is a
// usage error before any call (run used to take it and fail at the first SQS call).
func TestQueueURLCheckedForRunAndEnqueue(t *testing.T) {
	t.Parallel()
	const want = `--sqs-queue-url: must be a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), got "my-queue"`

	c := validConfig()
	c.CSV, c.SQSQueueURL = "", "my-queue"
	require.EqualError(t, c.Validate(), want)
	c.SQSQueueURL = "https://sqs.us-east-1.amazonaws.com/000000000000/q"
	require.NoError(t, c.Validate())

	e := config.Default()
	e.CSV = "-"
	require.EqualError(t, e.ValidateEnqueue(), "--sqs-queue-url: required")
	e.SQSQueueURL = "my-queue"
	require.EqualError(t, e.ValidateEnqueue(), want)
	e.SQSQueueURL = "http://127.0.0.1:1/0/q"
	require.NoError(t, e.ValidateEnqueue())
	e.CSV = ""
	require.EqualError(t, e.ValidateEnqueue(), "--csv: required: a CSV file, or - for standard input")
}

// The ledger commands' options are checked in one place, per command.
func TestValidateLedger(t *testing.T) {
	t.Parallel()
	ledger := func(mut func(*config.Config)) *config.Config {
		c := config.Default()
		c.LedgerTable, c.ClientID = "ledger", "client-1"
		c.Ledger = config.LedgerQuery{Users: []string{" alice "}, State: "SENT", Limit: 10}
		mut(&c)
		return &c
	}
	for _, cmd := range []string{config.LedgerInit, config.LedgerShow, config.LedgerList} {
		require.NoError(t, ledger(func(*config.Config) {}).ValidateLedger(cmd), cmd)
		require.EqualError(t, ledger(func(c *config.Config) { c.LedgerTable = "" }).ValidateLedger(cmd), "--ledger-table: required")
		require.ErrorContains(t, ledger(func(c *config.Config) { c.LedgerTable = "a b" }).ValidateLedger(cmd), "--ledger-table: ")
		require.ErrorContains(t, ledger(func(c *config.Config) { c.LedgerRegion = "eu west" }).ValidateLedger(cmd), "--ledger-region: ")
		require.ErrorContains(t, ledger(func(c *config.Config) { c.LogLevel = "loud" }).ValidateLedger(cmd), "--log-level: ")
	}
	require.NoError(t, ledger(func(c *config.Config) { c.ClientID = "" }).ValidateLedger(config.LedgerInit))
	require.ErrorContains(t, ledger(func(c *config.Config) { c.ClientID = "" }).ValidateLedger(config.LedgerShow), "--client-id: required")
	require.EqualError(t, ledger(func(c *config.Config) { c.Ledger.Users = nil }).ValidateLedger(config.LedgerShow), "name at least one USERNAME")
	require.ErrorContains(t, ledger(func(c *config.Config) { c.Ledger.State = "" }).ValidateLedger(config.LedgerList), "--state: required: ")
	require.ErrorContains(t, ledger(func(c *config.Config) { c.Ledger.State = "gone" }).ValidateLedger(config.LedgerList), `--state: must be a state`)
	require.EqualError(t, ledger(func(c *config.Config) { c.Ledger.Limit = 0 }).ValidateLedger(config.LedgerList), "--limit: must be 1..100000 (got 0)")
	require.Error(t, ledger(func(*config.Config) {}).ValidateLedger("drop"))

	export := func(mut func(*config.Config)) error {
		return ledger(func(c *config.Config) {
			c.Ledger.Campaign, c.Ledger.Output = "lambda:resend", "r.csv"
			mut(c)
		}).ValidateLedger(config.LedgerExport)
	}
	require.NoError(t, export(func(*config.Config) {}))
	require.ErrorContains(t, export(func(c *config.Config) { c.Ledger.Campaign = " " }), "--campaign: required")
	require.ErrorContains(t, export(func(c *config.Config) { c.Ledger.Output = "" }), "--output: required")
	require.ErrorContains(t, export(func(c *config.Config) { c.Ledger.Output = "r.txt" }), "--output: ")

	q := config.LedgerQuery{Users: []string{" alice ", "bob"}, State: " SENT "}
	require.Equal(t, []string{"alice", "bob"}, q.Usernames())
	require.Equal(t, "sent", q.ListState())
}
