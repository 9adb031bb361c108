package pacing

import (
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Defaults of the fault breaker.
const (
	BreakerThresholdDefault = 5                // consecutive faults that trip it
	BreakerBaseDefault      = time.Second      // first pause
	BreakerMaxDefault       = 30 * time.Second // longest pause (the delay doubles per trip)
)

// Breaker backs off the whole pool when Cognito keeps failing with 5xx, timeouts or
// connection errors, instead of letting every job burn its retries against an outage.
// After Threshold consecutive faults it pauses the limiter for a delay that doubles on
// each further trip (up to Max); one success closes it again. Zero fields get the
// BreakerXxxDefault values. Open and OnTrip are how it is watched (the metrics), so
// this package needs no metrics library.
type Breaker struct {
	Limiter   *Limiter
	Threshold int
	Base, Max time.Duration
	// OnTrip, when set, is told each time the breaker pauses the pool.
	OnTrip func(pause time.Duration)

	mu          sync.Mutex
	consecutive int
	delay       time.Duration
}

// Observe feeds one attempt's outcome to the breaker: its class and whether it was a
// server or network fault.
func (b *Breaker) Observe(class job.ErrorClass, fault bool) {
	b.mu.Lock()
	if !fault {
		if class != job.ClassRetryable { // a throttle says nothing about health
			b.consecutive, b.delay = 0, 0
		}
		b.mu.Unlock()
		return
	}
	b.consecutive++
	if b.consecutive < cmpOr(b.Threshold, BreakerThresholdDefault) {
		b.mu.Unlock()
		return
	}
	b.consecutive = 0
	if b.delay == 0 {
		b.delay = cmpOr(b.Base, BreakerBaseDefault)
	} else {
		b.delay = min(b.delay*2, cmpOr(b.Max, BreakerMaxDefault))
	}
	d := b.delay
	b.mu.Unlock()
	b.Limiter.PauseFor(d)
	if b.OnTrip != nil {
		b.OnTrip(d)
	}
}

// Open reports whether the breaker has tripped and no answer since has closed it: the
// pool is paused, or probing Cognito again after a pause.
func (b *Breaker) Open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.delay > 0
}

// cmpOr is cmp.Or for a positive setting: v, or def when v is zero or less.
func cmpOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
