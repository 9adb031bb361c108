// Package clocktest drives a fake clock for tests whose code waits on it (backoff between
// retries, limiter waits) but whose assertions are not about when: the test says how far
// each wait moves the clock instead of sleeping for real.
package clocktest

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// Drive advances fc by step each time something waits on it, until the test ends. Use it
// only where no assertion depends on the clock standing still.
func Drive(tb testing.TB, fc *clockwork.FakeClock, step time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	go func() {
		defer close(done)
		for fc.BlockUntilContext(ctx, 1) == nil {
			fc.Advance(step)
		}
	}()
}
