package dynamoledger_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBudgetNeverOvershoots: 4 replicas take from one window's counter of 10 at once,
// 40 tries: exactly 10 win, decided by the table's condition. A give back makes room for
// one more; it never goes below 0; another window has its own count.
func TestBudgetNeverOvershoots(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	window := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var won atomic.Int64
	var wg sync.WaitGroup
	for r := range 4 {
		b := f.ledger(t, "r"+string(rune('a'+r)), nil).Budget()
		wg.Go(func() {
			for range 10 {
				n, ok, err := b.Take(t.Context(), window, 10)
				require.NoError(t, err)
				require.LessOrEqual(t, n, 10)
				if ok {
					won.Add(1)
				}
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 10, won.Load())
	b := f.ledger(t, "x", nil).Budget()
	spent, err := b.Spent(t.Context(), window)
	require.NoError(t, err)
	require.Equal(t, 10, spent)

	require.NoError(t, b.Give(t.Context(), window))
	n, ok, err := b.Take(t.Context(), window, 10)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 10, n, "the count after the take")
	_, ok, err = b.Take(t.Context(), window, 10)
	require.NoError(t, err)
	require.False(t, ok)

	next := window.Add(24 * time.Hour)
	require.NoError(t, b.Give(t.Context(), next)) // nothing to give back: stays absent, not -1
	spent, err = b.Spent(t.Context(), next)
	require.NoError(t, err)
	require.Zero(t, spent)
	_, ok, err = b.Take(t.Context(), next, 10)
	require.NoError(t, err)
	require.True(t, ok)
	n, err = b.Spent(t.Context(), next)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// TestBudgetResetRecordedOnce: the first campaign's reset is the table's; another's
// BindReset reads it back unchanged; MoveReset moves it only from the reset it names.
func TestBudgetResetRecordedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.ledger(t, "a", nil).Budget(), f.ledger(t, "b", nil).Budget()
	rec, err := a.ReadReset(t.Context())
	require.NoError(t, err)
	require.Empty(t, rec.Reset, "none recorded; reading records none")
	rec, err = a.BindReset(t.Context(), "00:00")
	require.NoError(t, err)
	require.Equal(t, "00:00", rec.Reset)
	require.False(t, rec.Since.IsZero())
	rec, err = b.BindReset(t.Context(), "06:00")
	require.NoError(t, err)
	require.Equal(t, "00:00", rec.Reset, "the first reset stays")
	rec, err = b.ReadReset(t.Context())
	require.NoError(t, err)
	require.Equal(t, "00:00", rec.Reset)

	moved, err := b.MoveReset(t.Context(), "03:00", "06:00")
	require.NoError(t, err)
	require.False(t, moved, "not from a reset the table does not record")
	moved, err = b.MoveReset(t.Context(), "00:00", "06:00")
	require.NoError(t, err)
	require.True(t, moved)
	rec, err = a.BindReset(t.Context(), "00:00")
	require.NoError(t, err)
	require.Equal(t, "06:00", rec.Reset)
}
