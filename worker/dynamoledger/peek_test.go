package dynamoledger_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

func peek(t *testing.T, l *dynamoledger.Ledger, user string) job.ClaimVerdict {
	t.Helper()
	v, err := l.Peek(t.Context(), job.Job{Username: user})
	require.NoError(t, err)
	return v
}

// Peek judges a record as a lost claim would, and writes no claim: a free user is Won
// (and still unclaimed), a held one Busy, a sent one RecentlySent, an expired claim
// Expired (marked UNKNOWN, as a claim would) — or, under --retry-unknown, Won for the
// claim to take over.
func TestPeekJudgesWithoutClaiming(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.ledger(t, "a", nil), f.ledger(t, "b", nil)

	require.Equal(t, job.Won, peek(t, a, "alice").Kind)
	require.False(t, f.show(t, "alice").Found, "a look writes nothing")

	require.Equal(t, job.Won, claim(t, a, "alice").Kind)
	require.Equal(t, job.ClaimVerdict{Kind: job.Busy, At: t0.Add(30 * time.Second), Owner: "a", Campaign: "campaign-a"}, peek(t, b, "alice"))

	require.NoError(t, a.Finish(t.Context(), job.Job{Username: "alice"}, sentResult("alice", t0)))
	require.Equal(t, job.ClaimVerdict{Kind: job.RecentlySent, At: t0, Owner: "a", Campaign: "campaign-a"}, peek(t, b, "alice"))

	require.Equal(t, job.Won, claim(t, a, "bob").Kind)
	f.clock.Advance(31 * time.Second) // a's lease on bob runs out without an outcome
	retrying := f.ledger(t, "r", func(c *dynamoledger.Config) { c.RetryUnknown = true })
	require.Equal(t, job.Won, peek(t, retrying, "bob").Kind, "--retry-unknown: the claim takes it over")
	require.Equal(t, dynamoledger.StateInProgress, f.show(t, "bob").Record.State)
	require.Equal(t, job.ClaimVerdict{Kind: job.Expired, At: t0.Add(30 * time.Second), Owner: "a", Campaign: "campaign-a"}, peek(t, b, "bob"))
	require.Equal(t, dynamoledger.StateUnknown, f.show(t, "bob").Record.State, "marked as a claim would")
}
