package records_test

import (
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

var clockStart = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// newFakeClock is a clock that moves only when the test advances it.
func newFakeClock() *clockwork.FakeClock { return clockwork.NewFakeClockAt(clockStart) }

// sent is j's row after one successful call.
func sent(j job.Job) job.Result {
	return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusSent,
		Attempts: 1, StartedAt: clockStart, FinishedAt: clockStart, Class: job.ClassNone}
}
