package pacing_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
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
	refusedOutcome  = cognito.Classify(&net.OpError{Op: "dial", Net: "tcp",
		Err: errors.New("connect: connection refused")})
	nxdomainOutcome = cognito.Classify(&net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Err: "no such host", Name: "cognito-idp.eu-west-9.amazonaws.com", IsNotFound: true}})
)

type tripRecorder struct {
	mu      sync.Mutex
	trips   []time.Duration
	outages chan *pacing.OutageError
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

// outage waits for the breaker to give up (the MaxOutage timer runs its function on a
// goroutine of its own).
func (r *tripRecorder) outage(t *testing.T) *pacing.OutageError {
	t.Helper()
	select {
	case e := <-r.outages:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("the breaker never gave up")
		return nil
	}
}

// noOutage checks the breaker has not given up (what it decides on the caller's
// goroutine is decided by now; a timer's goroutine gets a moment).
func (r *tripRecorder) noOutage(t *testing.T) {
	t.Helper()
	select {
	case e := <-r.outages:
		t.Fatalf("gave up: %v", e)
	case <-time.After(20 * time.Millisecond):
	}
}

func newTestBreaker() (*pacing.Breaker, *clockwork.FakeClock, *tripRecorder) {
	clock := newFakeClock()
	rec := &tripRecorder{outages: make(chan *pacing.OutageError, 10)}
	b := &pacing.Breaker{
		Limiter:   pacing.NewLimiter(pacing.LimiterConfig{Rate: 0, Clock: clock}),
		Threshold: 3, Base: time.Second, Max: 4 * time.Second, Clock: clock,
		OnTrip:   rec.record,
		OnOutage: func(e *pacing.OutageError) { rec.outages <- e },
	}
	return b, clock, rec
}

func observeN(b *pacing.Breaker, o cognito.Outcome, n int) {
	for range n {
		b.Observe(o.Observation())
	}
}

func TestBreakerPreconditions(t *testing.T) {
	t.Parallel()

	require.True(t, faultOutcome.Fault)
	require.False(t, throttleOutcome.Fault)
	require.True(t, throttleOutcome.Throttle)
	require.False(t, successOutcome.Fault)
	require.True(t, refusedOutcome.Fault && refusedOutcome.Unsent && !refusedOutcome.NoSuchHost)
	require.True(t, nxdomainOutcome.Fault && nxdomainOutcome.Unsent && nxdomainOutcome.NoSuchHost)
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

		observeN(b, faultOutcome, 1)
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
		b.Observe(perUserOutcome.Observation())
		require.False(t, b.Open())
		observeN(b, faultOutcome, 3)
		b.Observe(successOutcome.Observation())
		require.False(t, b.Open())
	})

	t.Run("delay doubles up to Max", func(t *testing.T) {
		t.Parallel()
		b, clock, rec := newTestBreaker()
		for _, pause := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
			observeN(b, faultOutcome, 3)
			clock.Advance(pause)
		}
		observeN(b, faultOutcome, 3)
		require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}, rec.get())
		// The last pause is the Max from the current clock.
		clock.Advance(3 * time.Second)
		require.True(t, waitBlocks(t, b.Limiter))
		clock.Advance(time.Second)
		require.False(t, waitBlocks(t, b.Limiter))
	})

	t.Run("faults during a pause are of calls made before it", func(t *testing.T) {
		t.Parallel()
		b, clock, rec := newTestBreaker()
		observeN(b, faultOutcome, 3+7) // the trip, then the rest of the wave in flight
		require.Equal(t, []time.Duration{time.Second}, rec.get(), "one wave, one trip")
		clock.Advance(time.Second)
		observeN(b, faultOutcome, 3)
		require.Equal(t, []time.Duration{time.Second, 2 * time.Second}, rec.get())
	})

	t.Run("success resets count and delay", func(t *testing.T) {
		t.Parallel()
		b, clock, rec := newTestBreaker()
		observeN(b, faultOutcome, 3)
		clock.Advance(time.Second)
		observeN(b, faultOutcome, 3) // trips at 1s, 2s
		clock.Advance(2 * time.Second)
		observeN(b, successOutcome, 1)
		observeN(b, faultOutcome, 2)
		require.Len(t, rec.get(), 2, "success reset the consecutive count")
		observeN(b, faultOutcome, 1)
		require.Equal(t, []time.Duration{time.Second, 2 * time.Second, time.Second}, rec.get(), "success reset the delay")
	})

	t.Run("per-user answer resets", func(t *testing.T) {
		t.Parallel()
		b, _, rec := newTestBreaker()
		observeN(b, faultOutcome, 2)
		observeN(b, perUserOutcome, 1)
		observeN(b, faultOutcome, 2)
		require.Empty(t, rec.get())
	})

	t.Run("throttle does not reset", func(t *testing.T) {
		t.Parallel()
		b, clock, rec := newTestBreaker()
		observeN(b, faultOutcome, 2)
		observeN(b, throttleOutcome, 5)
		observeN(b, faultOutcome, 1)
		require.Equal(t, []time.Duration{time.Second}, rec.get())
		// Nor does it reset the delay.
		clock.Advance(time.Second)
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
		b, clock, rec := newTestBreaker()
		b.Max = time.Hour
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { observeN(b, faultOutcome, 30) })
		}
		wg.Wait()
		require.Len(t, rec.get(), 1, "300 faults without the clock moving: one wave")
		clock.Advance(time.Second)
		for range 10 {
			wg.Go(func() { observeN(b, faultOutcome, 30) })
		}
		wg.Wait()
		require.Len(t, rec.get(), 2)
	})
}

func TestBreakerGivesUpAfterMaxOutage(t *testing.T) {
	t.Parallel()

	t.Run("no answer for MaxOutage", func(t *testing.T) {
		t.Parallel()
		b, clock, rec := newTestBreaker()
		b.MaxOutage = time.Minute
		refused := refusedOutcome
		refused.Endpoint, refused.Cause = "127.0.0.1:1", "dial tcp 127.0.0.1:1: connect: connection refused"
		observeN(b, refused, 1) // the outage starts
		for clock.Since(clockStart) < time.Minute-time.Second {
			clock.Advance(time.Second)
			observeN(b, refused, 3)
		}
		rec.noOutage(t)
		clock.Advance(time.Second)
		e := rec.outage(t)
		require.Equal(t, &pacing.OutageError{Endpoint: "127.0.0.1:1",
			Cause: "dial tcp 127.0.0.1:1: connect: connection refused", For: time.Minute}, e)
		require.EqualError(t, e, "no answer from 127.0.0.1:1 for 1m0s (dial tcp 127.0.0.1:1: connect: connection refused)")
		// Once: later faults and timers change nothing.
		observeN(b, refused, 10)
		clock.Advance(time.Hour)
		rec.noOutage(t)
	})

	t.Run("an answer ends the outage; the next one starts over", func(t *testing.T) {
		t.Parallel()
		for _, answer := range []cognito.Outcome{successOutcome, perUserOutcome, throttleOutcome} {
			b, clock, rec := newTestBreaker()
			b.MaxOutage = time.Minute
			observeN(b, faultOutcome, 1)
			clock.Advance(59 * time.Second)
			observeN(b, answer, 1)
			clock.Advance(time.Second)
			rec.noOutage(t)
			observeN(b, faultOutcome, 1)
			clock.Advance(59 * time.Second)
			rec.noOutage(t)
			clock.Advance(time.Second)
			require.Equal(t, time.Minute, rec.outage(t).For, "%s", answer.Code)
		}
	})

	t.Run("a canceled call is no answer", func(t *testing.T) {
		t.Parallel()
		b, clock, rec := newTestBreaker()
		b.MaxOutage = time.Minute
		observeN(b, faultOutcome, 1)
		observeN(b, cognito.Classify(context.Canceled), 1)
		clock.Advance(time.Minute)
		rec.outage(t)
	})

	t.Run("MaxOutage zero never gives up", func(t *testing.T) {
		t.Parallel()
		b, clock, rec := newTestBreaker()
		for range 100 {
			observeN(b, faultOutcome, 3)
			clock.Advance(time.Hour)
		}
		rec.noOutage(t)
		require.Len(t, rec.get(), 100)
	})
}

func TestBreakerNoSuchHost(t *testing.T) {
	t.Parallel()

	nx := nxdomainOutcome
	nx.Endpoint = "cognito-idp.eu-west-9.amazonaws.com"
	t.Run("before any answer: gives up at the first trip", func(t *testing.T) {
		t.Parallel()
		b, _, rec := newTestBreaker()
		b.MaxOutage = time.Hour
		observeN(b, nx, 2)
		rec.noOutage(t)
		observeN(b, nx, 1)
		e := rec.outage(t)
		require.True(t, e.NoSuchHost)
		require.Equal(t, "cognito-idp.eu-west-9.amazonaws.com", e.Endpoint)
		require.EqualError(t, e, "host name cognito-idp.eu-west-9.amazonaws.com does not exist ("+nx.Cause+")")
		require.Empty(t, rec.get(), "no pause: the campaign stops")
	})
	t.Run("a mixed streak is an ordinary outage", func(t *testing.T) {
		t.Parallel()
		b, _, rec := newTestBreaker()
		observeN(b, nx, 2)
		observeN(b, refusedOutcome, 1)
		rec.noOutage(t)
		require.Len(t, rec.get(), 1)
	})
	t.Run("after an answer: the name existed, so it is an outage", func(t *testing.T) {
		t.Parallel()
		b, clock, rec := newTestBreaker()
		b.MaxOutage = time.Minute
		observeN(b, successOutcome, 1)
		observeN(b, nx, 3)
		rec.noOutage(t)
		require.Equal(t, []time.Duration{time.Second}, rec.get())
		clock.Advance(time.Minute)
		require.False(t, rec.outage(t).NoSuchHost)
	})
}

// Each trip is a warn line naming the endpoint and the transport's error; the end of the
// outage an info line.
func TestBreakerLogs(t *testing.T) {
	t.Parallel()

	b, clock, _ := newTestBreaker()
	var buf bytes.Buffer
	b.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	b.MaxOutage = time.Minute
	b.Endpoint = "cognito-idp.us-east-1.amazonaws.com"
	refused := refusedOutcome
	refused.Endpoint, refused.Cause = "127.0.0.1:1", "dial tcp 127.0.0.1:1: connect: connection refused"
	observeN(b, refused, 3)
	clock.Advance(time.Second)
	observeN(b, refused, 3)
	clock.Advance(2 * time.Second)
	observeN(b, faultOutcome, 3) // a timeout names no endpoint: the breaker's
	clock.Advance(4 * time.Second)
	observeN(b, successOutcome, 1)
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 4, buf.String())
	for i, want := range []string{
		`level=WARN msg="Cognito calls failing: pausing every call (breaker open)" endpoint=127.0.0.1:1 error="dial tcp 127.0.0.1:1: connect: connection refused" pause=1s failing_for=0s stop_in=1m0s`,
		`level=WARN msg="Cognito calls still failing: pausing every call again (breaker still open)" endpoint=127.0.0.1:1 error="dial tcp 127.0.0.1:1: connect: connection refused" pause=2s failing_for=1s stop_in=59s`,
		`level=WARN msg="Cognito calls still failing: pausing every call again (breaker still open)" endpoint=cognito-idp.us-east-1.amazonaws.com error="no answer within --call-timeout (context deadline exceeded)" pause=4s failing_for=3s stop_in=57s`,
		`level=INFO msg="Cognito answering again (breaker closed)" endpoint=cognito-idp.us-east-1.amazonaws.com failed_for=7s`,
	} {
		require.Contains(t, string(lines[i]), want)
	}
}
