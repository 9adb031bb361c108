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

func TestLimiterNonAdaptive(t *testing.T) {
	t.Parallel()

	clock := newFakeClock()
	l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 50, Burst: 1000, Clock: clock})
	require.Equal(t, 50.0, l.Rate())
	for range 3 {
		attempts(t, l, clock, 20, 10*time.Millisecond)
		l.Observe(clock.Now(), true)
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
	l.Observe(clock.Now(), true)
	require.Equal(t, 0.0, l.Rate(), "an unlimited limiter has nothing to cut")
	require.Equal(t, int64(1), l.Throttles())
	// Many waits never block.
	for range 1000 {
		require.NoError(t, l.Wait(context.Background()))
	}
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

// One waiter at a time holds a reservation, and looks again after a second: workers
// queued behind a trickle rate do not each wait out a reservation made at it once the
// rate is raised (here by a new ceiling; a recovery is the same).
func TestLimiterWaitersFollowARaisedRate(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clock := newFakeClock()
	l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 0.02, Clock: clock}) // one token in 50 s
	require.NoError(t, l.Wait(ctx))                                        // the burst's token
	const waiters = 4
	done := make(chan error, waiters)
	for range waiters {
		go func() { done <- l.Wait(ctx) }()
	}
	// One waiter holds a reservation (its timer); the others wait for it, not the clock.
	require.NoError(t, clock.BlockUntilContext(ctx, 1))
	l.SetCeiling(100)
	clock.Advance(time.Second) // the holder looks again, at 100/s: at once
	require.NoError(t, <-done)
	for range waiters - 1 { // each next one waits for its token at 100/s
		require.NoError(t, clock.BlockUntilContext(ctx, 1))
		clock.Advance(10 * time.Millisecond)
		require.NoError(t, <-done)
	}
	// At 0.02/s with every worker holding a reservation the last would wait 200 s.
	require.Less(t, clock.Since(clockStart), 1100*time.Millisecond)
}

// A wait cancelled while it holds a reservation gives the token back.
func TestLimiterCancelledWaitGivesTheTokenBack(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := pacing.NewLimiter(pacing.LimiterConfig{Rate: 1, Clock: clock})
	require.NoError(t, l.Wait(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.Wait(ctx) }()
	require.NoError(t, clock.BlockUntilContext(context.Background(), 1))
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	clock.Advance(time.Second)
	// The next token is due 1 s after the first, not 2 s: the cancelled one came back.
	errc2 := make(chan error, 1)
	go func() { errc2 <- l.Wait(context.Background()) }()
	select {
	case err := <-errc2:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the token of the cancelled wait was not given back")
	}
}
