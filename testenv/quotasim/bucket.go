package quotasim

import (
	"sync"
	"time"
)

// Bucket is a token bucket that computes its tokens from the time elapsed
// since the last call (no ticking goroutine). It is safe for concurrent use.
// A rate of 0 means unlimited.
type Bucket struct {
	mu     sync.Mutex
	clock  Clock
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

// NewBucket returns a full bucket of size burst refilling at rate tokens/s.
func NewBucket(clock Clock, rate float64, burst int) *Bucket {
	if clock == nil {
		clock = RealClock
	}
	return &Bucket{clock: clock, rate: rate, burst: float64(burst), tokens: float64(burst), last: clock.Now()}
}

// Allow takes one token if one is available.
func (b *Bucket) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rate <= 0 {
		return true
	}
	b.refillLocked(b.clock.Now())
	if b.tokens >= 1-1e-9 { // tolerate float rounding of elapsed*rate
		b.tokens = max(0, b.tokens-1)
		return true
	}
	return false
}

// Tokens reports the tokens available now.
func (b *Bucket) Tokens() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refillLocked(b.clock.Now())
	return b.tokens
}

// SetLimit changes rate and burst, keeping the tokens already accrued (capped at the new burst).
func (b *Bucket) SetLimit(rate float64, burst int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refillLocked(b.clock.Now())
	wasUnlimited := b.rate <= 0
	b.rate, b.burst = rate, float64(burst)
	if wasUnlimited || b.tokens > b.burst {
		b.tokens = b.burst
	}
}

// Refill fills the bucket to its burst.
func (b *Bucket) Refill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens, b.last = b.burst, b.clock.Now()
}

func (b *Bucket) refillLocked(now time.Time) {
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens += dt.Seconds() * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.last = now
	}
}
