package worker

import (
	"sync"
	"time"
)

// Breaker backs off the whole pool when Cognito keeps failing with 5xx, timeouts or
// connection errors, instead of letting every job burn its retries against an outage.
// After Threshold consecutive faults it pauses the limiter for a delay that doubles on
// each further trip (up to Max); one success closes it again.
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

// Observe feeds one attempt's outcome to the breaker.
func (b *Breaker) Observe(o Outcome) {
	b.mu.Lock()
	if !o.Fault {
		if o.Class != ClassRetryable { // a throttle says nothing about health
			b.consecutive, b.delay = 0, 0
		}
		b.mu.Unlock()
		return
	}
	b.consecutive++
	if b.consecutive < b.Threshold {
		b.mu.Unlock()
		return
	}
	b.consecutive = 0
	if b.delay == 0 {
		b.delay = b.Base
	} else {
		b.delay = min(b.delay*2, b.Max)
	}
	d := b.delay
	b.mu.Unlock()
	b.Limiter.PauseFor(d)
	if b.OnTrip != nil {
		b.OnTrip(d)
	}
}
