package pacing_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

var (
	faultOutcome    = cognito.Classify(context.DeadlineExceeded)
	successOutcome  = cognito.Classify(nil)
	throttleOutcome = cognito.Classify(&types.TooManyRequestsException{})
	perUserOutcome  = cognito.Classify(&types.UserNotFoundException{})
)

type tripRecorder struct {
	mu    sync.Mutex
	trips []time.Duration
}

func (r *tripRecorder) record(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trips = append(r.trips, d)
}

func (r *tripRecorder) get() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.trips...)
}

func newTestBreaker() (*pacing.Breaker, *clockwork.FakeClock, *tripRecorder) {
	clock := newFakeClock()
	rec := &tripRecorder{}
	b := &pacing.Breaker{
		Limiter:   pacing.NewLimiter(pacing.LimiterConfig{Rate: 0, Clock: clock}),
		Threshold: 3, Base: time.Second, Max: 4 * time.Second,
		OnTrip: rec.record,
	}
	return b, clock, rec
}

func observeN(b *pacing.Breaker, o cognito.Outcome, n int) {
	for range n {
		b.Observe(o.Class, o.Fault)
	}
}

func TestBreakerPreconditions(t *testing.T) {
	t.Parallel()

	require.True(t, faultOutcome.Fault)
	require.False(t, throttleOutcome.Fault)
	require.True(t, throttleOutcome.Throttle)
	require.False(t, successOutcome.Fault)
}

func TestBreaker(t *testing.T) {
	t.Parallel()

	t.Run("trips after threshold and pauses the limiter", func(t *testing.T) {
		t.Parallel()
		b, clock, rec := newTestBreaker()
		observeN(b, faultOutcome, 2)
		require.Empty(t, rec.get())
		require.False(t, waitBlocks(t, b.Limiter))
		require.False(t, b.Open())

		b.Observe(faultOutcome.Class, faultOutcome.Fault)
		require.Equal(t, []time.Duration{time.Second}, rec.get())
		require.True(t, b.Open())
		require.True(t, waitBlocks(t, b.Limiter))
		clock.Advance(time.Second)
		require.False(t, waitBlocks(t, b.Limiter))
		require.True(t, b.Open(), "the pause is over, but nothing has closed it yet")
	})

	t.Run("open until an answer closes it; a throttle does not", func(t *testing.T) {
		t.Parallel()
		b, _, _ := newTestBreaker()
		observeN(b, faultOutcome, 3)
		require.True(t, b.Open())
		observeN(b, throttleOutcome, 2)
		require.True(t, b.Open())
		b.Observe(perUserOutcome.Class, perUserOutcome.Fault)
		require.False(t, b.Open())
		observeN(b, faultOutcome, 3)
		b.Observe(successOutcome.Class, successOutcome.Fault)
		require.False(t, b.Open())
	})

	t.Run("delay doubles up to Max", func(t *testing.T) {
		t.Parallel()
		b, clock, rec := newTestBreaker()
		observeN(b, faultOutcome, 12)
		require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}, rec.get())
		// The last pause is the Max from the current clock.
		clock.Advance(3 * time.Second)
		require.True(t, waitBlocks(t, b.Limiter))
		clock.Advance(time.Second)
		require.False(t, waitBlocks(t, b.Limiter))
	})

	t.Run("success resets count and delay", func(t *testing.T) {
		t.Parallel()
		b, _, rec := newTestBreaker()
		observeN(b, faultOutcome, 6) // trips at 1s, 2s
		b.Observe(successOutcome.Class, successOutcome.Fault)
		observeN(b, faultOutcome, 2)
		require.Len(t, rec.get(), 2, "success reset the consecutive count")
		b.Observe(faultOutcome.Class, faultOutcome.Fault)
		require.Equal(t, []time.Duration{time.Second, 2 * time.Second, time.Second}, rec.get(), "success reset the delay")
	})

	t.Run("per-user answer resets", func(t *testing.T) {
		t.Parallel()
		b, _, rec := newTestBreaker()
		observeN(b, faultOutcome, 2)
		b.Observe(perUserOutcome.Class, perUserOutcome.Fault)
		observeN(b, faultOutcome, 2)
		require.Empty(t, rec.get())
	})

	t.Run("throttle does not reset", func(t *testing.T) {
		t.Parallel()
		b, _, rec := newTestBreaker()
		observeN(b, faultOutcome, 2)
		observeN(b, throttleOutcome, 5)
		b.Observe(faultOutcome.Class, faultOutcome.Fault)
		require.Equal(t, []time.Duration{time.Second}, rec.get())
		// Nor does it reset the delay.
		observeN(b, throttleOutcome, 1)
		observeN(b, faultOutcome, 3)
		require.Equal(t, []time.Duration{time.Second, 2 * time.Second}, rec.get())
	})

	t.Run("without OnTrip", func(t *testing.T) {
		t.Parallel()
		b, _, _ := newTestBreaker()
		b.OnTrip = nil
		observeN(b, faultOutcome, 3)
		require.True(t, waitBlocks(t, b.Limiter))
	})

	t.Run("concurrent observers", func(t *testing.T) {
		t.Parallel()
		b, _, rec := newTestBreaker()
		b.Max = time.Hour
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { observeN(b, faultOutcome, 30) })
		}
		wg.Wait()
		require.Len(t, rec.get(), 100) // 300 faults / threshold 3
	})
}
