package campaign

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/engine"
)

func TestCheckReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.csv")
	require.NoError(t, os.WriteFile(existing, nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "started.csv.ledger"), nil, 0o600))
	check := func(report string, resume bool, table string) error {
		c := &Campaign{cfg: config.Config{Resume: resume, LedgerTable: table}, reportPath: report}
		return c.checkReport()
	}
	require.NoError(t, check(filepath.Join(dir, "new.csv"), false, ""))
	require.NoError(t, check(filepath.Join(dir, "new.csv"), true, ""), "--resume of a campaign not started yet")
	require.NoError(t, check(existing, true, ""))
	require.ErrorContains(t, check(existing, false, ""), "old.csv already exists: use --resume")
	require.ErrorContains(t, check(filepath.Join(dir, "started.csv"), false, ""), "started.csv.ledger exists")
	require.NoError(t, check(filepath.Join(dir, "started.csv"), false, "table"), "with a table there is no file ledger")
	require.ErrorContains(t, check(filepath.Join(dir, "nodir", "r.csv"), false, ""), "does not exist")
	require.ErrorContains(t, check(filepath.Join(existing, "r.csv"), false, ""), "is not a directory")
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, ents, 2, "the checks create nothing")
}

func TestBindMetricsOnceAndClose(t *testing.T) {
	t.Parallel()
	c := &Campaign{cfg: config.Config{MetricsAddr: "127.0.0.1:0"}}
	require.NoError(t, c.bindMetrics(t.Context()))
	ln := c.metricsLn
	require.NoError(t, c.bindMetrics(t.Context()), "bound once")
	require.Same(t, ln, c.metricsLn)
	busy := &Campaign{cfg: config.Config{MetricsAddr: ln.Addr().String()}}
	var fe *config.FieldError
	require.ErrorAs(t, busy.bindMetrics(t.Context()), &fe)
	require.Equal(t, "metrics-addr", fe.Field)
	require.NoError(t, c.Close())
	_, err := net.Dial("tcp", ln.Addr().String())
	require.Error(t, err, "released")
}

func TestMayHaveCalledMessage(t *testing.T) {
	t.Parallel()
	c := &Campaign{}
	stop := c.stopped(engine.ErrInterrupted, false)
	require.Same(t, stop, mayHaveCalled(stop, 0, "a code"))
	got := mayHaveCalled(stop, 3, "a code")
	require.EqualError(t, got, "campaign interrupted; 3 users without a row may have been sent a code (their calls were "+
		"aborted): --resume reports them unknown and does not call them again; the other users without a row were not attempted")
	require.True(t, errors.Is(got, engine.ErrInterrupted))
}
