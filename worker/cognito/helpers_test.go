package cognito_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cognito-resend/cognito-resend/worker/clock/clocktest"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

var clockStart = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// newFakeClock is a clock that moves only when the test advances it.
func newFakeClock() *clockwork.FakeClock { return clockwork.NewFakeClockAt(clockStart) }

// The test resender's backoff: each wait is at most 1.5 × testBackoffMax (±50 % jitter).
const (
	testBackoffBase = 100 * time.Millisecond
	testBackoffMax  = time.Second
	// driveStep is how far drivenClock moves per wait: past any one backoff wait, so each
	// wait moves the clock by exactly this much.
	driveStep = 2 * time.Second
)

// drivenClock is a fake clock that moves on by driveStep whenever the code under test
// waits on it (a backoff between retries), for tests not about when.
func drivenClock(t *testing.T) *clockwork.FakeClock {
	c := newFakeClock()
	clocktest.Drive(t, c, driveStep)
	return c
}

// limiterOf is the test resender's limiter (newTestResender builds a *pacing.Limiter).
func limiterOf(r *cognito.Resender) *pacing.Limiter { return r.Limiter.(*pacing.Limiter) }

var errPaused = errors.New("test: wait would block")

// paused reports whether l is paused: a Wait with a context already cancelled with a
// distinct cause returns that cause only from the pause.
func paused(l *pacing.Limiter) bool {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errPaused)
	return errors.Is(l.Wait(ctx), errPaused)
}
