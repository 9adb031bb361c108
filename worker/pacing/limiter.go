package pacing

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cognito-resend/cognito-resend/worker/clock"
)

// Defaults of --rate, --burst, --adaptive and --reserve.
const (
	// RateDefault is 40 % of ResendConfirmationCode's default quota (category
	// UserResourceRead, 50 RPS per account and region, cognito.QuotaDefault): the rest is
	// left to the live application's device and group reads, which share the category,
	// and a quota that was never raised is not met.
	RateDefault     = 20.0
	BurstDefault    = 1
	AdaptiveDefault = true
	// ReserveDefault: no capacity set aside beyond what --rate leaves.
	ReserveDefault = 0.0
)

// Defaults of the adaptive controller (LimiterConfig's zero fields).
const (
	// FloorDefault is a trickle, not a share: 64 replicas at it send 1.3/s in all.
	FloorDefault = 0.02
	// TargetDefault is the throttled fraction of its attempts the controller converges to.
	TargetDefault = 0.02
)

// waitRecheck bounds one wait for a token: a waiter whose token is further away than
// this looks again, so a rate raised meanwhile (a recovery, a new ceiling) applies
// within it rather than after a wait reserved at a trickle.
const waitRecheck = time.Second

// LimiterConfig configures the shared rate limiter. Zero fields get the XxxDefault
// values of this package, except Rate: zero (or less) means unlimited.
type LimiterConfig struct {
	Rate     float64 // ceiling, requests/second; <= 0 means unlimited
	Burst    int
	Adaptive bool
	// Reserve (adaptive only) is the capacity, requests/second, the controller leaves
	// free below the rate at which it last saw throttling (--reserve); 0 = none.
	Reserve float64
	// Floor is the lowest rate a throttle cuts to (default FloorDefault, at most Rate).
	Floor float64
	// Target is the throttled fraction the controller converges to (default TargetDefault;
	// at most 0.5).
	Target float64
	// Seed seeds the controller's jitter; 0 draws one.
	Seed  uint64
	Clock clock.Clock
}

// Limiter is the one rate limiter every Cognito attempt waits on, retries included.
// Adaptive, it steers its rate by the answers it is told of (Observe) — down on
// TooManyRequestsException, up on successes, towards a small throttled fraction, under
// a ceiling (Rate, or SetCeiling's) and, with a Reserve, below the rate at which it last
// saw throttling (adaptive.go). Without Adaptive it holds the ceiling exactly. The token
// bucket is golang.org/x/time/rate, driven by the Clock: one waiter at a time holds a
// reservation made at Clock.Now and waits it out on a Clock timer, so that a rate cut to
// a trickle does not queue every worker behind it for minutes.
type Limiter struct {
	cfg       LimiterConfig
	lim       *rate.Limiter
	gate      chan struct{} // held by the one waiter with a reservation
	unlimited bool          // Rate <= 0: nothing to wait for, ever

	mu         sync.Mutex
	ceiling    float64
	ctl        *controller // nil unless adaptive and limited
	applied    float64     // the rate lim paces at
	throttles  int64
	pauseUntil time.Time
}

// NewLimiter builds a limiter. Zero fields of cfg get defaults.
func NewLimiter(cfg LimiterConfig) *Limiter {
	cfg.Clock = clock.Must(cfg.Clock, "pacing.NewLimiter")
	if cfg.Burst <= 0 {
		cfg.Burst = BurstDefault
	}
	if cfg.Floor <= 0 {
		cfg.Floor = FloorDefault
	}
	if cfg.Target <= 0 || cfg.Target > 0.5 {
		cfg.Target = TargetDefault
	}
	cfg.Reserve = max(cfg.Reserve, 0)
	l := &Limiter{cfg: cfg, gate: make(chan struct{}, 1), ceiling: max(cfg.Rate, 0), unlimited: !(cfg.Rate > 0)}
	if l.unlimited {
		l.lim = rate.NewLimiter(rate.Inf, cfg.Burst)
		return l
	}
	if cfg.Adaptive {
		seed := cfg.Seed
		if seed == 0 {
			seed = rand.Uint64()
		}
		l.ctl = newController(cfg.Rate, cfg, seed)
	}
	l.applied = cfg.Rate
	l.lim = rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Burst)
	return l
}

// Wait blocks until an attempt may start or ctx is done. A pause (PauseFor) ends with
// context.Cause(ctx); the token wait, like rate.Limiter.Wait, with ctx.Err().
func (l *Limiter) Wait(ctx context.Context) error {
	if pause := l.paused(); pause > 0 {
		if err := clock.Sleep(ctx, l.cfg.Clock, pause); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.unlimited {
		return nil
	}
	select {
	case l.gate <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.gate }()
	for {
		now := l.cfg.Clock.Now()
		l.mu.Lock()
		l.applyLocked(now)
		l.mu.Unlock()
		r := l.lim.ReserveN(now, 1) // Burst >= 1: always OK
		d := r.DelayFrom(now)
		if d <= 0 {
			return nil
		}
		t := l.cfg.Clock.NewTimer(min(d, waitRecheck))
		select {
		case <-ctx.Done():
			t.Stop()
			r.CancelAt(l.cfg.Clock.Now()) // give the token back
			return ctx.Err()
		case <-t.Chan():
		}
		if d <= waitRecheck {
			return nil
		}
		// The only reservation outstanding (the gate): cancelling it gives its token back
		// whole, and the next one is made at the rate of now.
		r.CancelAt(l.cfg.Clock.Now())
	}
}

// Observe tells the limiter how an attempt that started at started was answered:
// throttled is TooManyRequestsException; any other answer from Cognito is not
// throttled. Faults (5xx, timeouts, connection errors) say nothing about the quota and
// are not observed.
func (l *Limiter) Observe(started time.Time, throttled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if throttled {
		l.throttles++
	}
	if l.ctl == nil {
		return
	}
	now := l.cfg.Clock.Now()
	l.ctl.observe(now, started, throttled)
	l.applyLocked(now)
}

// SetCeiling moves the ceiling (Rate) to r > 0 at run time: a fleet budget's share of
// this process. Adaptive, the controller's rate moves in proportion, so cuts stay on
// top of the new ceiling; otherwise the limiter holds r exactly. Ignored on an
// unlimited limiter and for r <= 0.
func (l *Limiter) SetCeiling(r float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unlimited || !(r > 0) {
		return
	}
	l.ceiling = r
	if l.ctl != nil {
		l.ctl.setCeiling(r)
	}
	l.applyLocked(l.cfg.Clock.Now())
}

// applyLocked sets the token bucket to the rate of now.
func (l *Limiter) applyLocked(now time.Time) {
	r := l.ceiling
	if l.ctl != nil {
		r = l.ctl.bounded(now)
	}
	if r != l.applied {
		l.applied = r
		l.lim.SetLimitAt(now, rate.Limit(r))
	}
}

// PauseFor stops every attempt from starting until d from now (the fault breaker).
func (l *Limiter) PauseFor(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := l.cfg.Clock.Now().Add(d); until.After(l.pauseUntil) {
		l.pauseUntil = until
	}
}

// paused is the pool-wide pause left.
func (l *Limiter) paused() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := l.cfg.Clock.Now(); now.Before(l.pauseUntil) {
		return l.pauseUntil.Sub(now)
	}
	return 0
}

// Rate is the current rate in requests/second (0 = unlimited).
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unlimited {
		return 0
	}
	l.applyLocked(l.cfg.Clock.Now())
	return l.applied
}

// Throttles counts the TooManyRequestsException answers seen.
func (l *Limiter) Throttles() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.throttles
}
