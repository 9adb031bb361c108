package pacing_test

import (
	"math"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// The controller through the Limiter: Observe tells it the answers, Rate says what it
// paces at. Answers are reported lat after their attempt started.

func answer(l *pacing.Limiter, clock *clockwork.FakeClock, lat time.Duration, throttled bool) {
	l.Observe(clock.Now().Add(-lat), throttled)
}

func adaptive(clock *clockwork.FakeClock, rate float64) *pacing.Limiter {
	return pacing.NewLimiter(pacing.LimiterConfig{Rate: rate, Adaptive: true, Seed: 1, Clock: clock})
}

// cutOnce is an adaptive limiter at rate, throttled once a second in: it returns the rate
// it cut to.
func cutOnce(rate float64) (*clockwork.FakeClock, *pacing.Limiter, float64) {
	clock := newFakeClock()
	l := adaptive(clock, rate)
	clock.Advance(time.Second)
	answer(l, clock, 0, true)
	return clock, l, l.Rate()
}

func TestControllerStartsAtTheCeilingAndKeepsItsBounds(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := adaptive(clock, 20)
	require.Equal(t, 20.0, l.Rate())
	for range 1000 {
		clock.Advance(50 * time.Millisecond)
		answer(l, clock, 100*time.Millisecond, false)
	}
	require.Equal(t, 20.0, l.Rate(), "successes never lift it above the ceiling")

	// Throttled at every attempt, a second apart (past the cooldown): down to the floor,
	// and a starved process's floor backs off below it (one attempt in 5 minutes at most).
	for range 100 {
		clock.Advance(time.Second)
		answer(l, clock, 2*time.Millisecond, true)
	}
	require.Less(t, l.Rate(), pacing.FloorDefault, "the floor backs off while starved")
	require.GreaterOrEqual(t, l.Rate(), 0.5/(5*60.0))
	require.EqualValues(t, 100, l.Throttles())

	tiny := adaptive(clock, 0.01)
	clock.Advance(time.Second)
	answer(tiny, clock, 0, true)
	require.LessOrEqual(t, tiny.Rate(), 0.01, "the floor is clamped to the ceiling")
}

// Paced at its rate, the process grows when nothing is throttled and falls when much is.
func TestControllerSteersByTheThrottledFraction(t *testing.T) {
	t.Parallel()
	run := func(throttleEvery int) (start, end float64) {
		clock, l, start := cutOnce(200) // start below the ceiling
		for i := 1; i <= 6000; i++ {    // about 30 s at its rate
			clock.Advance(time.Duration(float64(time.Second) / l.Rate()))
			answer(l, clock, 0, throttleEvery > 0 && i%throttleEvery == 0)
		}
		return start, l.Rate()
	}
	start, end := run(0)
	require.Less(t, start, 190.0)
	require.Equal(t, 200.0, end, "no throttles: it grows back to the ceiling")
	start, end = run(10)
	require.Less(t, end, start/2, "10 % throttled: it falls")
}

// Growth is at most 2 % a second, however many successes: a process with the quota to
// itself probes gently.
func TestControllerGrowthIsBoundedPerSecond(t *testing.T) {
	t.Parallel()
	clock, l, cut := cutOnce(1000)
	for end := clock.Now().Add(10 * time.Second); clock.Now().Before(end); { // paced at its rate
		clock.Advance(time.Duration(float64(time.Second) / l.Rate()))
		answer(l, clock, 0, false)
	}
	require.Greater(t, l.Rate(), cut*1.1)
	require.LessOrEqual(t, l.Rate(), cut*math.Exp(0.02*10)*1.001)
}

// Answers to attempts started before a cut were paced at the old rate: their throttles
// are the same empty bucket and do not cut again, their successes do not grow it back.
func TestControllerIgnoresAnswersStartedBeforeACut(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := adaptive(clock, 100)
	inFlight := clock.Now()
	clock.Advance(50 * time.Millisecond)
	answer(l, clock, time.Millisecond, true)
	first := l.Rate()
	require.InDelta(t, 85, first, 8.6, "one cut: × 0.85, jittered ± 10 %")
	for range 7 { // the rest of a burst that was in flight at the old rate
		l.Observe(inFlight, true)
		l.Observe(inFlight, false)
	}
	require.Equal(t, first, l.Rate(), "neither cut again nor grown by answers paced before the cut")
	clock.Advance(100 * time.Millisecond)
	answer(l, clock, time.Millisecond, true) // within the cooldown: the bucket was still empty
	require.Equal(t, first, l.Rate(), "no second cut for the same empty bucket")
	clock.Advance(time.Second)
	answer(l, clock, time.Millisecond, true)
	require.Less(t, l.Rate(), first, "a throttle after the cooldown cuts again")
	require.EqualValues(t, 10, l.Throttles(), "every throttle is counted")
}

// Mostly throttled: one cut to 0.95 × what got through, not a chain of × 0.85 steps.
func TestControllerDeepCutLandsUnderTheShare(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := adaptive(clock, 100)
	bucket := quotasim.NewBucket(clock, 20, 1) // a 20/s share of the quota
	at := func(d time.Duration) float64 {
		for end := clock.Now().Add(d); clock.Now().Before(end); { // paced at its rate
			clock.Advance(time.Duration(float64(time.Second) / l.Rate()))
			if bucket.Allow() {
				answer(l, clock, 0, false) // (reported at once: the test has no latency)
			} else {
				answer(l, clock, 0, true)
			}
		}
		return l.Rate()
	}
	// × 0.85 steps every 500 ms would still be above 50/s after 2 s.
	require.InDelta(t, 0.95*20, at(2*time.Second), 0.1*19+0.5, "cut to 0.95 × the admitted rate, jittered")
	require.InDelta(t, 20, at(10*time.Second), 2, "and it stays at the share")
}

// A process that sends far less than its rate (its workers wait out backoffs, or the
// queue is quiet) neither grows nor loses an allowance it is not testing.
func TestControllerHoldsAnUnusedRate(t *testing.T) {
	t.Parallel()
	clock, l, cut := cutOnce(100)
	for range 300 { // 1 success a second at an ~85/s allowance, for 5 minutes
		clock.Advance(time.Second)
		answer(l, clock, 100*time.Millisecond, false)
	}
	require.InDelta(t, cut, l.Rate(), 0.01*cut, "held (growth at 2 %/s or decay would be far off)")
}

// --reserve: the first throttle of a run comes at --rate, so the limit is noted on the
// reserve's side, × 0.85 of the rate it cut to; the process stays R below it, holds that
// for a minute, then creeps up 0.1 %/s. A later throttle notes the rate it came at, but
// not one within 5 s of that (the bucket still refilling): the bound steps down by R once.
func TestControllerReserveStaysBelowTheThrottlingRate(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 20, Adaptive: true, Reserve: 2, Seed: 1, Clock: clock})
	for range 100 { // no throttle yet: --rate alone
		clock.Advance(50 * time.Millisecond)
		answer(l, clock, 100*time.Millisecond, false)
	}
	require.Equal(t, 20.0, l.Rate(), "no limit learned yet: nothing to subtract from")
	clock.Advance(50 * time.Millisecond)
	answer(l, clock, 2*time.Millisecond, true)
	limit := l.Rate() + 2
	require.InDelta(t, 0.85*0.85*20, limit, 0.01, "the first throttle notes 0.85 × the rate it cut to, unjittered")

	// A minute of successes at its rate: held at limit − R (growth would exceed it).
	for range 60 * 15 {
		clock.Advance(time.Second / 15)
		answer(l, clock, 100*time.Millisecond, false)
	}
	require.InDelta(t, limit-2, l.Rate(), 0.02, "held R below the limit")
	// Then the limit creeps up by 0.1 %/s.
	for range 100 * 15 {
		clock.Advance(time.Second / 15)
		answer(l, clock, 100*time.Millisecond, false)
	}
	require.InDelta(t, limit*math.Exp(0.001*100)-2, l.Rate(), 0.05, "creeping 0.1 %/s after the hold")

	// A later throttle notes the rate it came at: R below that now (after the cut,
	// growing back to it).
	at := l.Rate()
	clock.Advance(time.Second / 15)
	answer(l, clock, 2*time.Millisecond, true)
	require.LessOrEqual(t, l.Rate(), at-2+1e-9)
	// Throttles of the next seconds (after the cooldown, while the bucket refills) cut,
	// but do not note a limit again.
	for range 3 {
		clock.Advance(time.Second)
		answer(l, clock, 2*time.Millisecond, true)
	}
	for range 30 * 15 {
		clock.Advance(time.Second / 15)
		answer(l, clock, 100*time.Millisecond, false)
	}
	require.InDelta(t, at-2, l.Rate(), 0.02, "R below the rate of the first of those throttles, not of the last")

	// Long after, the creep lifts it back to the ceiling, never above.
	for end := clock.Now().Add(time.Hour); clock.Now().Before(end); { // paced at its rate
		clock.Advance(time.Duration(float64(time.Second) / l.Rate()))
		answer(l, clock, 100*time.Millisecond, false)
		require.LessOrEqual(t, l.Rate(), 20.0)
	}
	require.Equal(t, 20.0, l.Rate())
}

// The fleet budget's seam: SetCeiling moves the ceiling at run time; adaptive cuts stay
// on top, in proportion.
func TestLimiterSetCeiling(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	fixed := pacing.NewLimiter(pacing.LimiterConfig{Rate: 10, Clock: clock})
	fixed.SetCeiling(4)
	require.Equal(t, 4.0, fixed.Rate(), "not adaptive: the new ceiling exactly")
	fixed.SetCeiling(0)
	require.Equal(t, 4.0, fixed.Rate(), "a ceiling must be > 0")

	l := adaptive(clock, 10)
	l.SetCeiling(20)
	require.Equal(t, 20.0, l.Rate(), "at the ceiling, it moves with it")
	clock.Advance(time.Second)
	answer(l, clock, 0, true)
	cut := l.Rate()
	require.Less(t, cut, 20.0)
	l.SetCeiling(10)
	require.InDelta(t, cut/2, l.Rate(), 1e-9, "a cut stays a cut of the same depth")
	l.SetCeiling(40)
	require.InDelta(t, cut*2, l.Rate(), 1e-9)
	for range 10000 {
		clock.Advance(10 * time.Millisecond)
		answer(l, clock, 0, false)
	}
	require.Equal(t, 40.0, l.Rate(), "grows back to the new ceiling")

	unlimited := pacing.NewLimiter(pacing.LimiterConfig{Clock: clock})
	unlimited.SetCeiling(5)
	require.Equal(t, 0.0, unlimited.Rate(), "an unlimited limiter stays unlimited")
}
