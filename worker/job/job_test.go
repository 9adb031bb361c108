package job_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

func TestStatusKnown(t *testing.T) {
	t.Parallel()

	require.Len(t, job.Statuses, 11)
	for _, s := range job.Statuses {
		require.True(t, s.Known(), "%s", s)
	}
	require.False(t, job.Status("pending").Known())
	require.False(t, job.Status("").Known())
}

func TestStatusConclusive(t *testing.T) {
	t.Parallel()

	conclusive := map[job.Status]bool{job.StatusSent: true, job.StatusAlreadyConfirmed: true,
		job.StatusUserNotFound: true, job.StatusDisabled: true, job.StatusNotEligible: true, job.StatusUnknown: true,
		job.StatusRecentlySent: true}
	for _, s := range job.Statuses {
		require.Equal(t, conclusive[s], s.Conclusive(), "%s", s)
	}
}

func TestResultRedeliver(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		r    job.Result
		want bool
	}{
		{job.Result{Status: job.StatusFailed, Class: job.ClassRetryable}, true},
		{job.Result{Status: job.StatusLimitExceeded, Class: job.ClassPerUser}, true},
		{job.Result{Status: job.StatusFailed, Class: job.ClassPerUser}, false},
		{job.Result{Status: job.StatusSent, Class: job.ClassNone}, false},
		{job.Result{Status: job.StatusUserNotFound, Class: job.ClassPerUser}, false},
		{job.Result{Status: job.StatusInvalidInput, Class: job.ClassPerUser}, false},
	} {
		require.Equal(t, tt.want, tt.r.Redeliver(), "%+v", tt.r)
		// A redelivered job is never conclusive: its user is not done.
		if tt.want {
			require.False(t, tt.r.Status.Conclusive())
		}
	}
}

func TestResultRetryDue(t *testing.T) {
	t.Parallel()

	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		r    job.Result
		now  time.Time
		want bool
	}{
		{job.Result{Status: job.StatusFailed, FinishedAt: at}, at, true},
		{job.Result{Status: job.StatusFailed, Class: job.ClassPerUser, FinishedAt: at}, at, true},
		{job.Result{Status: job.StatusLimitExceeded, FinishedAt: at}, at.Add(59 * time.Minute), false},
		{job.Result{Status: job.StatusLimitExceeded, FinishedAt: at}, at.Add(job.LimitWindow - time.Nanosecond), false},
		{job.Result{Status: job.StatusLimitExceeded, FinishedAt: at}, at.Add(job.LimitWindow), true},
		{job.Result{Status: job.StatusLimitExceeded, FinishedAt: at}, at.Add(3 * time.Hour), true},
		{job.Result{Status: job.StatusSent, FinishedAt: at}, at.Add(48 * time.Hour), false},
		{job.Result{Status: job.StatusUnknown, FinishedAt: at}, at.Add(48 * time.Hour), false},
		{job.Result{Status: job.StatusUserNotFound, FinishedAt: at}, at.Add(48 * time.Hour), false},
		{job.Result{Status: job.StatusAlreadyConfirmed, FinishedAt: at}, at.Add(48 * time.Hour), false},
		{job.Result{Status: job.StatusInvalidInput, FinishedAt: at}, at.Add(48 * time.Hour), false},
		{job.Result{Status: job.StatusDuplicate, FinishedAt: at}, at.Add(48 * time.Hour), false},
	} {
		require.Equal(t, tt.want, tt.r.RetryDue(tt.now), "%s at +%s", tt.r.Status, tt.now.Sub(at))
	}
	require.Equal(t, time.Hour, job.LimitWindow)
}

// TestLimitDue: the one rule for when a limit_exceeded user may be called again, which
// RetryDue reads too.
func TestLimitDue(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	r := job.Result{Status: job.StatusLimitExceeded, FinishedAt: at}
	require.Equal(t, at.Add(job.LimitWindow), r.LimitDue())
	require.False(t, r.RetryDue(r.LimitDue().Add(-time.Nanosecond)))
	require.True(t, r.RetryDue(r.LimitDue()))
	require.True(t, job.Result{Status: job.StatusSent, FinishedAt: at}.LimitDue().IsZero())
}
