package budget

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
)

// Counter counts the sends of each window. Take is atomic: it never lets the window's
// count pass limit.
type Counter interface {
	// Take adds one send to window's count unless it has reached limit (false); n is the
	// count after it.
	Take(ctx context.Context, window time.Time, limit int) (n int, ok bool, err error)
	// Give takes back one send of window (never below 0).
	Give(ctx context.Context, window time.Time) error
	// Spent is window's count.
	Spent(ctx context.Context, window time.Time) (int, error)
}

// SpentError is the budget found spent: nothing more is sent before Next. Cap marks
// Cognito's own daily email cap (the budget found the hard way).
type SpentError struct {
	Limit, Spent int // Limit 0: no --daily-budget (Cap)
	Next         time.Time
	Cap          bool
}

func (e *SpentError) Error() string {
	if e.Cap {
		return "Cognito's daily email limit is reached (LimitExceededException \"Exceeded daily email limit\"): " +
			"nothing more is sent before the next window, " + e.Next.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("daily budget spent: %d of %d sent in this window; the next window opens %s", e.Spent, e.Limit,
		e.Next.UTC().Format(time.RFC3339))
}

// Budget is --daily-budget over a Counter. Limit 0 is no budget: Take always succeeds
// (the windows still say when Cognito's daily cap may have reset).
type Budget struct {
	Limit    int
	Schedule Schedule
	Counter  Counter
	Clock    clock.Clock

	mu     sync.Mutex
	seen   int       // the count last seen (Take, Status), for the gauge
	seenOf time.Time // its window
}

// Seen is the count of the current window last seen by this process (the metrics'
// gauge: it makes no call).
func (b *Budget) Seen() int {
	start, _ := b.Schedule.Window(b.now())
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.seenOf.Equal(start) {
		return 0
	}
	return b.seen
}

func (b *Budget) see(window time.Time, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen, b.seenOf = n, window
}

// Take takes one send from the current window before a call: it returns the window
// taken from (for Give), or a *SpentError.
func (b *Budget) Take(ctx context.Context) (time.Time, error) {
	start, next := b.Schedule.Window(b.now())
	if b.Limit <= 0 {
		return start, nil
	}
	n, ok, err := b.Counter.Take(ctx, start, b.Limit)
	if err != nil {
		return start, err
	}
	b.see(start, n)
	if !ok {
		// n, not Limit: the count as the counter answered it (a take in flight may give
		// its send back a moment later; the summary reads the count at the end).
		return start, &SpentError{Limit: b.Limit, Spent: n, Next: next}
	}
	return start, nil
}

// Give gives back a send taken from window and not made.
func (b *Budget) Give(ctx context.Context, window time.Time) error {
	if b.Limit <= 0 {
		return nil
	}
	if err := b.Counter.Give(ctx, window); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seenOf.Equal(window) && b.seen > 0 {
		b.seen-- // Seen (the summary's count, the gauge) counts the send given back
	}
	return nil
}

// Next is when the next window opens.
func (b *Budget) Next() time.Time {
	_, next := b.Schedule.Window(b.now())
	return next
}

// Status is the current window: its start, the next one's, and its sends (0 with no
// budget).
func (b *Budget) Status(ctx context.Context) (start, next time.Time, spent int, err error) {
	start, next = b.Schedule.Window(b.now())
	if b.Limit <= 0 {
		return start, next, 0, nil
	}
	spent, err = b.Counter.Spent(ctx, start)
	if err == nil {
		b.see(start, spent)
	}
	return start, next, spent, err
}

// Local counts in this process: the file ledger's budget. Seed it with the sends its
// report already holds for the current window, so a restart knows what was spent.
type Local struct {
	mu    sync.Mutex
	spent map[time.Time]int
}

// NewLocal is a Local whose window already counts spent sends.
func NewLocal(window time.Time, spent int) *Local {
	return &Local{spent: map[time.Time]int{window.UTC(): spent}}
}

func (l *Local) Take(_ context.Context, window time.Time, limit int) (int, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.spent == nil {
		l.spent = map[time.Time]int{}
	}
	w := window.UTC()
	if l.spent[w] >= limit {
		return l.spent[w], false, nil
	}
	l.spent[w]++
	for k := range l.spent { // past windows are done with
		if k.Before(w) {
			delete(l.spent, k)
		}
	}
	return l.spent[w], true, nil
}

func (l *Local) Give(_ context.Context, window time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := window.UTC(); l.spent[w] > 0 {
		l.spent[w]--
	}
	return nil
}

func (l *Local) Spent(_ context.Context, window time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.spent[window.UTC()], nil
}

// now is the budget's clock's time: a Budget without one is a programming error.
func (b *Budget) now() time.Time { return clock.Must(b.Clock, "budget.Budget").Now() }
