package quotasim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBucketAllowsBurstThenThrottlesAndRefills(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	b := NewBucket(clk, 10, 5) // Q=10/s, B=5

	for i := range 5 {
		require.True(t, b.Allow(), "call %d within burst", i)
	}
	require.False(t, b.Allow(), "burst exhausted")
	require.False(t, b.Allow())

	clk.Advance(100 * time.Millisecond) // 1 token at 10/s
	require.True(t, b.Allow())
	require.False(t, b.Allow())

	clk.Advance(50 * time.Millisecond) // half a token
	require.False(t, b.Allow())
	clk.Advance(50 * time.Millisecond)
	require.True(t, b.Allow())

	// Steady state: over 10 s at exactly Q spacing every call passes.
	for range 100 {
		clk.Advance(100 * time.Millisecond)
		require.True(t, b.Allow())
		require.False(t, b.Allow())
	}

	// A long pause refills only up to B.
	clk.Advance(time.Hour)
	require.InDelta(t, 5.0, b.Tokens(), 1e-9)
	allowed := 0
	for range 20 {
		if b.Allow() {
			allowed++
		}
	}
	require.Equal(t, 5, allowed)
}

func TestBucketUnlimitedAndSetLimit(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	b := NewBucket(clk, 0, 0)
	for range 1000 {
		require.True(t, b.Allow())
	}

	b.SetLimit(2, 3) // from unlimited: starts full
	for range 3 {
		require.True(t, b.Allow())
	}
	require.False(t, b.Allow())
	clk.Advance(500 * time.Millisecond)
	require.True(t, b.Allow())

	clk.Advance(10 * time.Second)
	b.SetLimit(1, 1) // accrued tokens are capped at the new burst
	require.True(t, b.Allow())
	require.False(t, b.Allow())

	clk.Advance(time.Second)
	b.Refill()
	require.InDelta(t, 1.0, b.Tokens(), 1e-9)
}

func TestBucketDefaultBurst(t *testing.T) {
	t.Parallel()
	require.Equal(t, 0, Config{}.effectiveBurst())
	require.Equal(t, 1, Config{Rate: 0.5}.effectiveBurst())
	require.Equal(t, 25, Config{Rate: 24.2}.effectiveBurst())
	require.Equal(t, 7, Config{Rate: 24.2, Burst: 7}.effectiveBurst())
}
