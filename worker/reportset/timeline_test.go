package reportset_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/reportset"
)

func TestTimeline(t *testing.T) {
	t.Parallel()
	retried := row("r", job.StatusSent, 3.5)
	retried.Attempts = 3 // two earlier attempts throttled or faulted
	rows := []job.Result{
		row("a", job.StatusSent, 0.2), row("b", job.StatusSent, 0.9), // second 0
		row("c", job.StatusFailed, 1.1), // TooManyRequestsException after 8 attempts
		retried,
		row("d", job.StatusLimitExceeded, 9.9),
	}
	set, err := reportset.Read(writeReport(t, t.TempDir(), "r.csv", rows, ""))
	require.NoError(t, err)

	t.Run("one-second buckets when they fit", func(t *testing.T) {
		t.Parallel()
		tl := set.Timeline(60)
		require.Len(t, tl, 10) // seconds 0..9, empty ones included
		require.Equal(t, t0, tl[0].Start)
		require.Equal(t, time.Second, tl[0].Width)
		require.Equal(t, 2, tl[0].Sent)
		require.Equal(t, 2.0, tl[0].SentPerSecond())
		require.Equal(t, 1, tl[1].Throttled, "a TooManyRequestsException row")
		require.Equal(t, 7, tl[1].Retries)
		require.Equal(t, 1, tl[3].Throttled, "a row with more than one attempt")
		require.Equal(t, 1, tl[3].Sent)
		require.Equal(t, 0, tl[5].Rows)
		require.Equal(t, 1, tl[9].Rows)
		require.Equal(t, 0, tl[9].Throttled)
	})
	t.Run("round wider buckets when they don't", func(t *testing.T) {
		t.Parallel()
		tl := set.Timeline(3)
		require.Len(t, tl, 2) // 5 s buckets: 0-4, 5-9
		require.Equal(t, 5*time.Second, tl[0].Width)
		require.Equal(t, 3, tl[0].Sent)
		require.InDelta(t, 0.6, tl[0].SentPerSecond(), 1e-9)
		require.Equal(t, 2, tl[0].Throttled)
		require.Equal(t, 1, tl[1].Rows)
	})
	t.Run("nothing to show", func(t *testing.T) {
		t.Parallel()
		empty, err := reportset.Read(writeReport(t, t.TempDir(), "e.csv", nil, ""))
		require.NoError(t, err)
		require.Nil(t, empty.Timeline(60))
		sum := empty.Summary()
		require.Zero(t, sum.Users)
		require.Empty(t, sum.FirstStartedAt)
		require.Zero(t, sum.SendsPerSecond)
	})
}
