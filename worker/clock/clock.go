// Package clock is cognito-resend's one clock: everything time-dependent (timestamps,
// timers, tickers, pauses) reads it, so tests drive time with a fake clock instead of
// sleeping. It is github.com/jonboulle/clockwork: tests use clockwork.NewFakeClockAt and
// Advance, with BlockUntilContext to wait until the code under test is waiting on it.
package clock

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"
)

// Clock tells the time and makes timers, tickers and after-funcs.
type Clock = clockwork.Clock

// Timer is a Clock's timer.
type Timer = clockwork.Timer

var system = clockwork.NewRealClock()

// Real is the system clock.
func Real() Clock { return system }

// Must returns c, and panics when it is nil: a clock is required wherever time matters
// (a programming error, not an operator's). A silent fallback to the system clock would
// undo a test's fake clock without a word; production wiring passes Real() itself. who
// names the constructor or type that was given none.
func Must(c Clock, who string) Clock {
	if c == nil {
		panic(who + ": a nil clock.Clock (production passes clock.Real(), a test its fake)")
	}
	return c
}

// Sleep waits d on c. It returns nil after d, or context.Cause(ctx) as soon as ctx ends.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.Chan():
		return nil
	}
}

// WithTimeout is context.WithTimeout on c: the context ends d after now on c's time, so a
// budget (a settle, a renewal, a heartbeat) ends when a test advances a fake clock, not
// after real seconds. On the system clock it is context.WithTimeout itself. On another
// clock its Err is context.Canceled once the time is up, and its Cause
// context.DeadlineExceeded. (clockwork v0.5.0's own WithTimeout blocks in Err until the
// context ends.) A network call's own deadline is the named exception of CONTRIBUTING.md
// ("One clock").
func WithTimeout(ctx context.Context, c Clock, d time.Duration) (context.Context, context.CancelFunc) {
	if Must(c, "clock.WithTimeout") == system {
		return context.WithTimeout(ctx, d)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	t := c.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}
