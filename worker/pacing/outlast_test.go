package pacing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// A queue worker's breaker (Outlast) says so every MaxOutage while the outage lasts,
// keeps pausing the pool, and, once an answer has ended the outage, watches the next
// one the same way (issue 20, point 2).
func TestBreakerOutlastsMaxOutage(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	rec := &tripRecorder{outages: make(chan *pacing.OutageError, 4)}
	b := &pacing.Breaker{Limiter: pacing.NewLimiter(pacing.LimiterConfig{Rate: 10, Clock: clk}), Threshold: 2,
		MaxOutage: 10 * time.Second, Outlast: true, Clock: clk, OnTrip: rec.record,
		OnOutage: func(e *pacing.OutageError) { rec.outages <- e }}
	b.Observe(refusedOutcome.Observation())
	b.Observe(refusedOutcome.Observation())
	require.Len(t, rec.get(), 1)
	require.True(t, b.Open())
	since, last := b.Fault()
	require.Equal(t, clockStart, since)
	require.Contains(t, last.Cause, "connection refused")

	clk.Advance(10 * time.Second)
	require.Equal(t, 10*time.Second, rec.outage(t).For)
	clk.Advance(10 * time.Second)
	require.Equal(t, 20*time.Second, rec.outage(t).For, "said again after another MaxOutage")

	// Still watching: faults after the pause trip it again.
	b.Observe(refusedOutcome.Observation())
	b.Observe(refusedOutcome.Observation())
	require.Len(t, rec.get(), 2)

	b.Observe(perUserOutcome.Observation()) // an answer
	require.False(t, b.Open())
	since, _ = b.Fault()
	require.True(t, since.IsZero())
	clk.Advance(time.Minute)
	select {
	case e := <-rec.outages:
		t.Fatalf("an outage reported after the answer: %v", e)
	default:
	}

	// The next outage is watched the same way.
	b.Observe(refusedOutcome.Observation())
	b.Observe(refusedOutcome.Observation())
	require.Len(t, rec.get(), 3)
	clk.Advance(10 * time.Second)
	require.Equal(t, 10*time.Second, rec.outage(t).For)
}
