package dynamoledger_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// --ledger-retention keeps a finished record readable for 30 days (ledger show, ledger
// list: "why didn't alice get a code?" is asked days later) while the cooldown still
// says when a send stops blocking another one: 24 h after the send, alice is claimed
// again, as before; her record had expired (and was deleted by TTL) at 24 h before.
func TestRetentionKeepsRecordsReadableNotBlocking(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	retain := func(c *dynamoledger.Config) { c.Retention = 30 * 24 * time.Hour }
	a := f.ledger(t, "a", retain)
	require.Equal(t, job.Won, claim(t, a, "alice").Kind)
	require.Equal(t, job.Won, claim(t, a, "bob").Kind)
	require.NoError(t, a.Finish(t.Context(), job.Job{Username: "alice"}, sentResult("alice", t0)))
	failed := job.Result{Username: "bob", Status: job.StatusFailed, ErrorCode: "InternalErrorException", Attempts: 3,
		StartedAt: t0, FinishedAt: t0}
	require.NoError(t, a.Finish(t.Context(), job.Job{Username: "bob"}, failed))
	require.Equal(t, t0.Add(30*24*time.Hour), f.show(t, "alice").Record.ExpiresAt, "the retention, not the cooldown")
	require.Equal(t, t0.Add(30*24*time.Hour), f.show(t, "bob").Record.ExpiresAt, "a failure is kept as long")

	f.clock.Advance(23 * time.Hour)
	b := f.ledger(t, "b", retain)
	require.Equal(t, job.RecentlySent, claim(t, b, "alice").Kind, "within the cooldown")
	f.clock.Advance(2 * time.Hour)
	require.Equal(t, job.Won, claim(t, b, "alice").Kind, "after the cooldown, as without a retention")

	// A retention shorter than the cooldown does not shorten it.
	short := f.ledger(t, "s", func(c *dynamoledger.Config) { c.Retention = time.Hour })
	require.Equal(t, job.Won, claim(t, short, "carol").Kind)
	require.NoError(t, short.Finish(t.Context(), job.Job{Username: "carol"}, sentResult("carol", f.clock.Now())))
	require.Equal(t, f.clock.Now().Add(24*time.Hour).Truncate(time.Second), f.show(t, "carol").Record.ExpiresAt.Truncate(time.Second))
}
