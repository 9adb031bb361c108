package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// A run with the file ledger ends with one INFO line saying what its intents cost: every
// intent counted, the fsyncs that made them durable, and the share of the workers' time
// spent waiting for them (bench line 5 reads it).
func TestRunLogsTheLedgersCost(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	users := userRange(1, 40)
	csv := writeUsers(t, dir, "lc.csv", users)
	res := runBin(t, dir, append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c"), "", "run", "--csv", csv,
		"--report", "lc-report.csv", "--rate", "1000", "--burst", "100", "--workers", "4",
		"--log-format", "json", "--log-level", "info")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(len(users)), sim.Sim.Stats().Successes)

	var cost map[string]any
	for line := range strings.SplitSeq(res.stderr, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "intent ledger: cost of durability" {
			require.Nil(t, cost, "one line a run")
			cost = m
		}
	}
	require.NotNil(t, cost, "stderr: %s", res.stderr)
	require.Equal(t, "INFO", cost["level"])
	require.InDelta(t, len(users), cost["ledger_records"], 0, "one start record a user")
	fsyncs := cost["ledger_fsyncs"].(float64)
	require.GreaterOrEqual(t, fsyncs, 1.0)
	require.LessOrEqual(t, fsyncs, float64(len(users)))
	require.InDelta(t, float64(len(users))/fsyncs, cost["records_per_fsync"], 0.01)
	share := cost["workers_waiting_on_ledger"].(float64)
	require.Greater(t, share, 0.0, "the workers waited for their intents")
	require.LessOrEqual(t, share, 1.0)
	require.Contains(t, cost, "fsync_ms_mean")
	require.FileExists(t, filepath.Join(dir, "lc-report.csv.ledger"))
}
