package records

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// An intent tracked, then carried into the fresh file by a rotation before its own
// request reached the ledger's loop, is written once: a resume pairs every start record
// with a row, and a second copy would make its user `unknown`.
func TestLedgerRotationWritesACarriedIntentOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv.ledger")
	l, err := OpenLedger(path, false, clock.Real())
	require.NoError(t, err)
	l.TrackPending()
	j := job.Job{Username: "alice", SourceRef: "m-1"}

	// Intend's first half: tracked, not yet queued.
	req := ledgerReq{line: l.record(LedgerStart, j), done: make(chan error, 1)}
	l.track(j.SourceRef, req.line)
	require.NoError(t, l.Rotate(filepath.Join(dir, "old.ledger")))
	// Its second half, after the rotation.
	require.NoError(t, l.send(context.Background(), req))
	require.NoError(t, <-req.done)
	require.NoError(t, l.Close())

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(b), `"source_ref":"m-1"`), "%s", b)
	old, err := os.ReadFile(filepath.Join(dir, "old.ledger"))
	require.NoError(t, err)
	require.Empty(t, old)

	// With the row in the report, a resume finds no intent without one.
	report := filepath.Join(dir, "r.csv")
	require.NoError(t, os.WriteFile(report, []byte(strings.Join(Columns, ",")+"\nalice,sent,1,,,,,,,m-1,,\n"), 0o600))
	st, err := LoadResume(report, ResumeOptions{Redelivers: true})
	require.NoError(t, err)
	require.Empty(t, st.Unknown)
}
