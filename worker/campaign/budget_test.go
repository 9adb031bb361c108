package campaign

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/budget"
)

// fakeIdler records the source's idles and wakes.
type fakeIdler struct {
	mu     sync.Mutex
	events []string
}

func (f *fakeIdler) Idle(reason string, _ time.Time) {
	f.mu.Lock()
	f.events = append(f.events, "idle: "+reason)
	f.mu.Unlock()
}
func (f *fakeIdler) Wake() { f.mu.Lock(); f.events = append(f.events, "wake"); f.mu.Unlock() }
func (f *fakeIdler) get() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.events...)
}

// TestBudgetPauseWakesAtTheNextWindow: a queue worker whose budget is spent (or that met
// Cognito's daily cap) idles once however many jobs report it, and receives again when
// the next window opens by the injected clock — not a moment before. A budget spent
// again in the new window idles it until the window after.
func TestBudgetPauseWakesAtTheNextWindow(t *testing.T) {
	t.Parallel()
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 22, 0, 0, 0, time.UTC))
	src := &fakeIdler{}
	var paused []time.Time
	p := &budgetPause{src: src, clock: clk, log: slog.New(slog.DiscardHandler),
		onPause: func(next time.Time) { paused = append(paused, next) }}
	sched, err := budget.ParseReset("23:30")
	require.NoError(t, err)
	next := sched.Next(clk.Now())
	require.Equal(t, time.Date(2026, 12, 5, 23, 30, 0, 0, time.UTC), next)
	for range 3 { // three jobs in hand meet the spent budget
		p.spent(&budget.SpentError{Limit: 10, Spent: 10, Next: next})
	}
	require.Equal(t, []string{"idle: daily budget spent until 2026-12-05T23:30:00Z"}, src.get())

	require.NoError(t, clk.BlockUntilContext(t.Context(), 1))
	clk.Advance(90*time.Minute - time.Nanosecond)
	require.Len(t, src.get(), 1, "still idle a moment before the reset")
	clk.Advance(time.Nanosecond) // the reset: the next window opens
	require.Eventually(t, func() bool { return len(src.get()) == 2 }, 5*time.Second, time.Millisecond)
	require.Equal(t, "wake", src.get()[1])

	// Cognito's cap in the new window: idle until the window after.
	again := sched.Next(clk.Now())
	require.Equal(t, time.Date(2026, 12, 6, 23, 30, 0, 0, time.UTC), again)
	p.spent(&budget.SpentError{Next: again, Cap: true})
	require.Equal(t, "idle: Cognito's daily email limit reached until 2026-12-06T23:30:00Z", src.get()[2])
	require.Equal(t, []time.Time{next, again}, paused)
	p.stop()
}
