package campaign

import (
	"context"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/engine"
)

// hardStop derives the context that aborts calls in flight: it ends with kill (a second
// signal), or ShutdownTimeout after stop (the first), on the clock.
func hardStop(stop, kill context.Context, after time.Duration, clk clock.Clock) (context.Context, context.CancelFunc) {
	kill, cancel := context.WithCancel(kill)
	context.AfterFunc(stop, func() {
		t := clk.AfterFunc(after, cancel)
		context.AfterFunc(kill, func() { t.Stop() })
	})
	return kill, cancel
}

// settleContext is the settle budget (engine.SettleBudget, the engine's too): it outlives
// stop. It is the deadline of the network
// calls made after the engine stopped (flush deletes, releases, leaving the fleet), so it
// is on the machine's clock (CONTRIBUTING.md, "One clock").
func settleContext(stop context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(stop), engine.SettleBudget)
}
