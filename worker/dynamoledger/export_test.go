package dynamoledger

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// A record's report row: SENT is sent at sent_at; UNKNOWN and a lapsed claim are unknown;
// RELEASED is its last outcome; a live claim and a release without an outcome have none.
func TestRecordResult(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 4, 0, 0, 0, time.UTC)
	at := now.Add(-time.Minute)
	for _, tc := range []struct {
		rec  Record
		want job.Status
		ok   bool
	}{
		{Record{State: StateSent, SentAt: at, Attempts: 1}, job.StatusSent, true},
		{Record{State: StateUnknown, Outcome: job.StatusFailed}, job.StatusUnknown, true},
		{Record{State: StateInProgress, LeaseUntil: now.Add(-time.Second)}, job.StatusUnknown, true},
		{Record{State: StateInProgress, LeaseUntil: now.Add(time.Second)}, "", false},
		{Record{State: StateReleased, Outcome: job.StatusUserNotFound, ErrorCode: "UserNotFoundException"}, job.StatusUserNotFound, true},
		{Record{State: StateReleased}, "", false},
	} {
		tc.rec.Username = "alice"
		row, ok := tc.rec.Result(now)
		require.Equal(t, tc.ok, ok, "%+v", tc.rec)
		require.Equal(t, tc.want, row.Status, "%+v", tc.rec)
		if tc.rec.State == StateSent {
			require.Equal(t, at, row.FinishedAt)
		}
	}
}
