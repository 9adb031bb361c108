package pacing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

var errPaused = errors.New("test: wait would block")

// waitBlocks reports whether l.Wait would block on a pause. It calls Wait with a context
// already cancelled with a distinct cause: the pause path returns that cause, while an
// unpaused (unlimited) limiter returns context.Canceled from the token bucket.
func waitBlocks(t *testing.T, l *pacing.Limiter) bool {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errPaused)
	err := l.Wait(ctx)
	require.Error(t, err)
	if errors.Is(err, errPaused) {
		return true
	}
	require.ErrorIs(t, err, context.Canceled)
	return false
}

func adaptiveLimiter(clock *clockwork.FakeClock) *pacing.Limiter {
	return pacing.NewLimiter(pacing.LimiterConfig{
		Rate: 100, Burst: 1, Adaptive: true, Floor: 10, Decrease: 0.7,
		Cooldown: 2 * time.Second, Interval: time.Second, Step: 1, Clock: clock,
	})
}

func TestLimiterNonAdaptive(t *testing.T) {
	t.Parallel()

	clock := newFakeClock()
	l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 50, Burst: 1000, Clock: clock})
	require.Equal(t, 50.0, l.Rate())
	for range 3 {
		attempts(t, l, clock, 20, 10*time.Millisecond)
		l.OnThrottle()
		require.Equal(t, 50.0, l.Rate(), "--adaptive=false holds --rate exactly")
		clock.Advance(time.Hour)
	}
	require.Equal(t, 50.0, l.Rate())
	require.Equal(t, int64(3), l.Throttles())
}

func TestLimiterUnlimited(t *testing.T) {
	t.Parallel()

	clock := newFakeClock()
	l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 0, Adaptive: true, Clock: clock})
	require.Equal(t, 0.0, l.Rate())
	l.OnThrottle()
	require.Equal(t, 0.0, l.Rate(), "an unlimited limiter has nothing to cut")
	require.Equal(t, int64(1), l.Throttles())
	// Many waits never block.
	for range 1000 {
		require.NoError(t, l.Wait(context.Background()))
	}
}

func TestLimiterAdaptive(t *testing.T) {
	t.Parallel()

	t.Run("cut, cooldown, recovery, ceiling", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := adaptiveLimiter(clock)
		require.Equal(t, 100.0, l.Rate())

		l.OnThrottle()
		require.InDelta(t, 70.0, l.Rate(), 1e-9)

		// Throttles from calls already in flight don't cut again within Cooldown.
		clock.Advance(500 * time.Millisecond)
		l.OnThrottle()
		require.InDelta(t, 70.0, l.Rate(), 1e-9)
		require.Equal(t, int64(2), l.Throttles())

		// No growth before a full quiet Interval since the cut.
		clock.Advance(499 * time.Millisecond)
		require.InDelta(t, 70.0, l.Rate(), 1e-9)

		// Fast recovery: halve the distance to 95% of the throttled rate (95).
		clock.Advance(time.Millisecond)
		require.InDelta(t, 82.5, l.Rate(), 1e-9)
		clock.Advance(time.Second)
		require.InDelta(t, 88.75, l.Rate(), 1e-9)

		// Then additive probing up to, never above, the ceiling.
		prev := l.Rate()
		for range 30 {
			clock.Advance(time.Second)
			r := l.Rate()
			require.GreaterOrEqual(t, r, prev)
			require.LessOrEqual(t, r, 100.0)
			prev = r
		}
		require.Equal(t, 100.0, l.Rate())
		clock.Advance(24 * time.Hour)
		require.Equal(t, 100.0, l.Rate())
	})

	t.Run("second cut after cooldown", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := adaptiveLimiter(clock)
		l.OnThrottle()
		require.InDelta(t, 70.0, l.Rate(), 1e-9)
		clock.Advance(2 * time.Second)
		// Growth is applied lazily, by Wait before each attempt (here Rate): 82.5, 88.75.
		require.InDelta(t, 88.75, l.Rate(), 1e-9)
		l.OnThrottle()
		require.InDelta(t, 88.75*0.7, l.Rate(), 1e-9)
		require.Equal(t, int64(2), l.Throttles())
	})

	t.Run("growth counts multiple quiet intervals at once", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := adaptiveLimiter(clock)
		l.OnThrottle()
		clock.Advance(2 * time.Second)
		require.InDelta(t, 88.75, l.Rate(), 1e-9)
	})

	t.Run("floor", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := pacing.NewLimiter(pacing.LimiterConfig{
			Rate: 10, Adaptive: true, Floor: 4, Decrease: 0.5, Cooldown: time.Second,
			Interval: time.Hour, Clock: clock,
		})
		want := []float64{5, 4, 4, 4}
		for _, w := range want {
			l.OnThrottle()
			require.InDelta(t, w, l.Rate(), 1e-9)
			clock.Advance(time.Second)
		}
		require.Equal(t, int64(4), l.Throttles())
	})

	t.Run("default floor and decrease", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		// Floor defaults to min(1, Rate); Decrease to 0.7; Cooldown to 1s.
		l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 2, Adaptive: true, Interval: time.Hour, Clock: clock})
		l.OnThrottle()
		require.InDelta(t, 1.4, l.Rate(), 1e-9)
		clock.Advance(999 * time.Millisecond)
		l.OnThrottle()
		require.InDelta(t, 1.4, l.Rate(), 1e-9, "default cooldown is 1s")
		clock.Advance(time.Millisecond)
		l.OnThrottle()
		require.InDelta(t, 1.0, l.Rate(), 1e-9)
		clock.Advance(time.Second)
		l.OnThrottle()
		require.InDelta(t, 1.0, l.Rate(), 1e-9)
	})

	t.Run("floor above ceiling never exceeds ceiling", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 5, Adaptive: true, Floor: 10, Clock: clock})
		l.OnThrottle()
		require.LessOrEqual(t, l.Rate(), 5.0)
	})
}

func TestLimiterPauseFor(t *testing.T) {
	t.Parallel()

	t.Run("pause blocks until the clock passes it", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 0, Clock: clock})
		require.False(t, waitBlocks(t, l))

		l.PauseFor(time.Minute)
		require.True(t, waitBlocks(t, l))
		clock.Advance(59 * time.Second)
		require.True(t, waitBlocks(t, l))
		clock.Advance(time.Second)
		require.False(t, waitBlocks(t, l))
		require.NoError(t, l.Wait(context.Background()))
	})

	t.Run("a shorter pause does not shorten a longer one", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 0, Clock: clock})
		l.PauseFor(time.Hour)
		l.PauseFor(time.Second)
		clock.Advance(time.Minute)
		require.True(t, waitBlocks(t, l))
		clock.Advance(time.Hour)
		require.False(t, waitBlocks(t, l))
	})

	t.Run("deadline ends a paused wait", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 0, Clock: clock})
		l.PauseFor(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, l.Wait(ctx), context.DeadlineExceeded)
	})

	t.Run("pause does not change the rate or throttle count", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 30, Adaptive: true, Clock: clock})
		l.PauseFor(time.Minute)
		require.Equal(t, 30.0, l.Rate())
		require.Equal(t, int64(0), l.Throttles())
	})
}

// attempts makes n attempts, one every `every` of fake time. Burst must cover n: the
// token bucket waits on the fake clock, which moves only between attempts here.
func attempts(t *testing.T, l *pacing.Limiter, clock *clockwork.FakeClock, n int, every time.Duration) {
	t.Helper()
	for range n {
		clock.Advance(every)
		require.NoError(t, l.Wait(context.Background()))
	}
}

func TestLimiterCutsToAdmittedRate(t *testing.T) {
	t.Parallel()

	// The admitted rate is measured over the last Window in 100 ms slots, the newest one
	// partial, so it is exact only to about ±1 attempt in ~0.9-1 s: hence the InDeltas.

	t.Run("gentle cut when everything got through", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 20, Burst: 1000, Adaptive: true, Interval: time.Hour, Clock: clock})
		attempts(t, l, clock, 20, 50*time.Millisecond) // 20/s, none throttled
		l.OnThrottle()
		// The bucket just ran dry at 20/s: cut to Margin (0.9) × 20, not × 0.7 (14).
		require.InDelta(t, 18.0, l.Rate(), 1e-9)
	})

	t.Run("deep cut when most attempts were throttled", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 100, Burst: 1000, Adaptive: true, Interval: time.Hour, Clock: clock})
		// First throttle with nothing measured yet: × Decrease.
		l.OnThrottle()
		require.InDelta(t, 70.0, l.Rate(), 1e-9)
		// During the cooldown: 70 attempts/s, of which only 20 got through.
		for i := range 70 {
			attempts(t, l, clock, 1, time.Second/70)
			if i%7 != 0 && i%7 != 3 { // 50 throttled, 20 admitted
				l.OnThrottle()
			}
			require.InDelta(t, 70.0, l.Rate(), 1e-9, "no second cut within the cooldown (attempt %d)", i)
		}
		clock.Advance(10 * time.Millisecond)
		l.OnThrottle()
		// One cut to 0.9 × ~20 admitted/s, where × 0.7 steps would take four cuts.
		require.InDelta(t, 18.0, l.Rate(), 2.0)
		require.Equal(t, int64(52), l.Throttles())
	})

	t.Run("all throttled cuts to the floor", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 50, Burst: 1000, Adaptive: true, Floor: 2, Interval: time.Hour, Clock: clock})
		l.OnThrottle() // 35
		for range 30 {
			attempts(t, l, clock, 1, 40*time.Millisecond)
			l.OnThrottle()
		}
		clock.Advance(time.Second)
		attempts(t, l, clock, 5, 10*time.Millisecond)
		for range 5 {
			l.OnThrottle()
		}
		require.InDelta(t, 2.0, l.Rate(), 1e-9, "nothing admitted: the floor")
	})

	t.Run("growth probes in steps of 1 % of the measured limit", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 100, Burst: 1000, Adaptive: true, Clock: clock})
		attempts(t, l, clock, 40, 25*time.Millisecond) // 40/s, all admitted
		l.OnThrottle()
		cut := l.Rate()
		require.InDelta(t, 36.0, cut, 1.5)
		limit := cut / 0.9 // the admitted rate the cut was based on
		// Fast recovery to 0.95 × limit, then +1 % of limit per quiet 500 ms: not 1 % of
		// the ceiling (1.0), which would overshoot a small quota share quickly.
		var rates []float64
		for range 20 {
			clock.Advance(500 * time.Millisecond)
			rates = append(rates, l.Rate())
		}
		require.Greater(t, rates[2], 0.94*limit, "fast recovery reaches ~0.95 × limit in a few intervals")
		for i := 6; i < len(rates); i++ {
			require.InDelta(t, 0.01*limit, rates[i]-rates[i-1], 1e-9, "interval %d", i)
		}
	})
}

func TestLimiterDefaultStep(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 10, Adaptive: true, Clock: clock})
	l.OnThrottle() // no attempts measured: × 0.7
	require.InDelta(t, 7.0, l.Rate(), 1e-9)
	// Halve the distance to 0.95 × 10 while that beats the step (1 % of 10 = 0.1) …
	want := []float64{8.25, 8.875, 9.1875, 9.34375, 9.44375, 9.54375, 9.64375}
	for i, w := range want {
		clock.Advance(500 * time.Millisecond)
		require.InDelta(t, w, l.Rate(), 1e-9, "interval %d", i+1)
	}
	// … and never above the ceiling.
	clock.Advance(time.Minute)
	require.Equal(t, 10.0, l.Rate())
	clock.Advance(time.Hour)
	require.Equal(t, 10.0, l.Rate())
}
