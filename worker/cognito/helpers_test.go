package cognito_test

import (
	"context"
	"errors"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

var clockStart = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// newFakeClock is a clock that moves only when the test advances it.
func newFakeClock() *clockwork.FakeClock { return clockwork.NewFakeClockAt(clockStart) }

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
