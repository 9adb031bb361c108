package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// TestTableBudgetKeepsOneReset: two campaigns on one ledger table with --daily-budget 2
// and resets 00:00 and 06:00 sent 4 in one hour (trial 4): each counted its own windows.
// The table keeps the reset its budget was made with; a process with another one is
// refused (exit 2, nothing sent) while the recorded reset's window it overlaps has
// sends, and the refusal names the table's reset and, for the environment's value, the
// variable.
func TestTableBudgetKeepsOneReset(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 3 * time.Millisecond})
	env := ledgerEnv(sim.URL, dynamo)
	dirA, dirB := t.TempDir(), t.TempDir()
	listA, listB := writeUsers(t, dirA, "a.csv", userRange(0, 5)), writeUsers(t, dirB, "b.csv", userRange(100, 105))
	args := func(csv string) []string {
		return []string{"run", "--csv", csv, "--report", "r.csv", "--ledger-table", "ledger", "--daily-budget", "2",
			"--rate", "100", "--workers", "1", "--log-format", "text"}
	}
	a := runBin(t, dirA, env, "", args(listA)...)
	require.Equal(t, 4, a.code, a.stderr)
	require.EqualValues(t, 2, sim.Sim.Stats().Successes)

	b := runBin(t, dirB, env, "", append(args(listB), "--budget-reset", "06:00", "--dry-run")...)
	require.Equal(t, 2, b.code, "the dry run refuses what the run would: %s", b.stderr)
	require.Contains(t, b.stderr, "--budget-reset: 06:00 UTC is not the reset of the daily budget shared on the ledger table ledger")

	b = runBin(t, dirB, env, "", append(args(listB), "--budget-reset", "06:00")...)
	t.Logf("campaign B, --budget-reset 06:00: exit %d\n%s", b.code, b.stderr)
	require.Equal(t, 2, b.code, b.stderr)
	require.Contains(t, b.stderr, "--budget-reset: 06:00 UTC is not the reset of the daily budget shared on the ledger table ledger: its windows begin at 00:00 UTC")
	require.Contains(t, b.stderr, "Give every process on the table --budget-reset 00:00")
	require.EqualValues(t, 2, sim.Sim.Stats().Successes, "nothing sent")
	require.NoFileExists(t, filepath.Join(dirB, "r.csv"), "refused before the report")

	b = runBin(t, dirB, append(env, "COGNITO_RESEND_BUDGET_RESET=06:00"), "", args(listB)...)
	require.Equal(t, 2, b.code, b.stderr)
	require.Contains(t, b.stderr, "06:00 UTC (from COGNITO_RESEND_BUDGET_RESET) is not the reset of the daily budget")
	require.EqualValues(t, 2, sim.Sim.Stats().Successes, "nothing sent")

	// The table's reset: B shares the spent budget.
	b = runBin(t, dirB, env, "", append(args(listB), "--budget-reset", "00:00")...)
	require.Equal(t, 4, b.code, b.stderr)
	require.EqualValues(t, 2, sim.Sim.Stats().Successes, "the shared budget is spent")
}
