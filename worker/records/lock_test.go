package records

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLockReportOnce(t *testing.T) {
	report := filepath.Join(t.TempDir(), "r.csv")
	at := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	l, err := LockReport(report, at)
	require.NoError(t, err)
	_, err = LockReport(report, at)
	var inUse *InUseError
	require.True(t, errors.As(err, &inUse), "%v", err)
	require.Contains(t, err.Error(), "report "+report+" is in use by another cognito-resend run (pid ")
	require.Contains(t, err.Error(), "started 2026-12-05T01:00:00Z)")
	require.NoError(t, l.Release())
	require.NoFileExists(t, LockPath(report))
	l, err = LockReport(report, at)
	require.NoError(t, err, "released: the next run takes it")
	require.NoError(t, l.Release())
}

// RunningOf finds a held lock that records the same input (not this run's own report,
// not another input, not a lock file left by a killed run), and the holder line stays
// the in-use error's.
func TestRunningOf(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	pool := Input{Source: InputPool, UserPoolID: "p1"}
	first := filepath.Join(dir, "a.csv")
	l, err := LockReport(first, at)
	require.NoError(t, err)
	require.NoError(t, l.RecordInput(pool))
	got := RunningOf(dir, pool, filepath.Join(dir, "b.csv"))
	require.Len(t, got, 1)
	require.Equal(t, first, got[0].Report)
	require.Contains(t, got[0].Holder, "pid ")
	require.NotContains(t, got[0].Holder, "input")
	require.Empty(t, RunningOf(dir, pool, first), "its own report")
	require.Empty(t, RunningOf(dir, Input{Source: InputPool, UserPoolID: "p2"}, ""), "another pool")
	_, err = LockReport(first, at)
	require.Contains(t, err.Error(), "started 2026-12-05T01:00:00Z)")
	require.NotContains(t, err.Error(), "input")

	// A lock file no process holds (its run was killed): nothing runs.
	body, err := os.ReadFile(LockPath(first))
	require.NoError(t, err)
	require.NoError(t, l.Release())
	require.NoError(t, os.WriteFile(LockPath(first), body, 0o600))
	require.Empty(t, RunningOf(dir, pool, ""))
}
