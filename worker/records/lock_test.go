package records

import (
	"errors"
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
