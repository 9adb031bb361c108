package budget

import (
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
)

func TestParseReset(t *testing.T) {
	s, err := ParseReset("09:30")
	require.NoError(t, err)
	require.Equal(t, 9*time.Hour+30*time.Minute, s.Reset)
	require.Equal(t, "09:30 UTC", s.String())
	// H:MM and surrounding spaces are accepted (trial finding 7): 9:30 is 09:30.
	for _, ok := range []string{"9:30", " 09:30", "09:30 "} {
		s, err := ParseReset(ok)
		require.NoError(t, err, ok)
		require.Equal(t, "09:30 UTC", s.String(), ok)
	}
	for _, bad := range []string{"", "24:00", "12:60", "12", "aa:bb", "12:00:00", "930", "9:3"} {
		_, err := ParseReset(bad)
		require.Error(t, err, bad)
	}
}

// TestWindowAcrossReset: the window holding a time, on both sides of the reset and of
// midnight.
func TestWindowAcrossReset(t *testing.T) {
	s, _ := ParseReset("09:00")
	at := func(v string) time.Time { r, _ := time.Parse(time.RFC3339, v); return r }
	for _, c := range []struct{ now, start, next string }{
		{"2026-12-05T08:59:59Z", "2026-12-04T09:00:00Z", "2026-12-05T09:00:00Z"},
		{"2026-12-05T09:00:00Z", "2026-12-05T09:00:00Z", "2026-12-06T09:00:00Z"},
		{"2026-12-05T23:59:00Z", "2026-12-05T09:00:00Z", "2026-12-06T09:00:00Z"},
		{"2026-12-06T00:30:00Z", "2026-12-05T09:00:00Z", "2026-12-06T09:00:00Z"},
		{"2026-12-31T12:00:00+02:00", "2026-12-31T09:00:00Z", "2027-01-01T09:00:00Z"},
	} {
		start, next := s.Window(at(c.now))
		require.Equal(t, at(c.start), start, c.now)
		require.Equal(t, at(c.next), next, c.now)
	}
	midnight := Schedule{}
	start, next := midnight.Window(at("2026-12-05T00:00:00Z"))
	require.Equal(t, at("2026-12-05T00:00:00Z"), start)
	require.Equal(t, at("2026-12-06T00:00:00Z"), next)
}

func TestWindows(t *testing.T) {
	w := func(n, limit, spent int) [2]int { a, b := Windows(n, limit, spent); return [2]int{a, b} }
	require.Equal(t, [2]int{0, 0}, w(30, 0, 0))
	require.Equal(t, [2]int{3, 2}, w(30, 10, 0))
	require.Equal(t, [2]int{1, 0}, w(5, 10, 5))
	require.Equal(t, [2]int{4, 3}, w(30, 10, 5))  // 5 today, then 10, 10, 5
	require.Equal(t, [2]int{3, 3}, w(30, 10, 10)) // none today, then 10, 10, 10
}

// TestBudgetSpendsAndRefillsAtTheReset: with the fake clock, the budget is spent after
// Limit takes, a give back makes room for one more, and the next window (the reset
// crossed) has the whole budget again.
func TestBudgetSpendsAndRefillsAtTheReset(t *testing.T) {
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 23, 58, 0, 0, time.UTC))
	b := &Budget{Limit: 3, Counter: NewLocal(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), 1), Clock: clk}
	ctx := t.Context()
	var got []time.Time
	for range 2 {
		w, err := b.Take(ctx)
		require.NoError(t, err)
		got = append(got, w)
	}
	_, err := b.Take(ctx)
	var spent *SpentError
	require.True(t, errors.As(err, &spent))
	require.Equal(t, time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), spent.Next)
	require.Contains(t, err.Error(), "daily budget spent: 3 of 3 sent in this window; the next window opens 2026-12-06T00:00:00Z")
	require.NoError(t, b.Give(ctx, got[0]))
	_, err = b.Take(ctx)
	require.NoError(t, err)
	_, err = b.Take(ctx)
	require.Error(t, err)

	clk.Advance(2 * time.Minute) // 00:00: the next window
	for range 3 {
		w, err := b.Take(ctx)
		require.NoError(t, err)
		require.Equal(t, time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), w)
	}
	_, err = b.Take(ctx)
	require.Error(t, err)
	// A send of the last window given back late does not refill this one.
	require.NoError(t, b.Give(ctx, got[1]))
	_, err = b.Take(ctx)
	require.Error(t, err)
	_, _, n, err := b.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
}

// TestOverlapping: the windows of another reset that the current window overlaps — where
// sends counted by the other's windows fall within this one.
func TestOverlapping(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	midnight, six := Schedule{}, Schedule{Reset: 6 * time.Hour}
	// 07:00: 06:00's window began today 06:00; 00:00's today 00:00 (overlaps), yesterday's ended at 00:00 (no).
	require.Equal(t, []time.Time{at("2026-03-02T00:00:00Z")}, six.Overlapping(midnight, at("2026-03-02T07:00:00Z")))
	// 07:00: 00:00's window began today 00:00; 06:00's yesterday 06:00 (overlaps until today 06:00) and today's.
	require.Equal(t, []time.Time{at("2026-03-01T06:00:00Z"), at("2026-03-02T06:00:00Z")},
		midnight.Overlapping(six, at("2026-03-02T07:00:00Z")))
	// 03:00: 06:00's window began yesterday 06:00; 00:00's yesterday (overlaps) and today's.
	require.Equal(t, []time.Time{at("2026-03-01T00:00:00Z"), at("2026-03-02T00:00:00Z")},
		six.Overlapping(midnight, at("2026-03-02T03:00:00Z")))
}
