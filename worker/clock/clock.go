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

// Or returns c, or the system clock when c is nil (a zero config field).
func Or(c Clock) Clock {
	if c == nil {
		return system
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
