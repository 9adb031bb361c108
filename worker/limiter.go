package worker

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Clock lets tests drive time-dependent logic without sleeping.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// LimiterConfig configures the shared rate limiter.
type LimiterConfig struct {
	Rate     float64 // ceiling, requests/second; <= 0 means unlimited
	Burst    int
	Adaptive bool
	// Floor is the lowest rate a throttle can cut to.
	Floor float64
	// Decrease multiplies the rate on a throttle (e.g. 0.7).
	Decrease float64
	// Cooldown is the minimum time between two cuts: throttles from calls already in
	// flight when the first one arrived must not cut again.
	Cooldown time.Duration
	// Interval is the quiet time after which the rate grows one step.
	Interval time.Duration
	// Step is the additive growth per quiet interval once the rate is back near the
	// rate at which the last throttle happened.
	Step  float64
	Clock Clock
}

// Limiter is the one rate limiter every Cognito attempt waits on, retries included.
// In adaptive mode it cuts its rate multiplicatively on TooManyRequestsException and
// grows it back after quiet intervals: quickly up to just below the rate at which the
// last throttle happened, then additively (probing) up to the ceiling.
type Limiter struct {
	cfg LimiterConfig
	lim *rate.Limiter

	mu           sync.Mutex
	current      float64
	lastThrottle float64 // rate at the last throttle; 0 = none yet
	lastCut      time.Time
	lastChange   time.Time
	throttles    int64
	pauseUntil   time.Time
}

// NewLimiter builds a limiter. Zero fields of cfg get defaults.
func NewLimiter(cfg LimiterConfig) *Limiter {
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 1
	}
	if cfg.Decrease <= 0 || cfg.Decrease >= 1 {
		cfg.Decrease = 0.7
	}
	if cfg.Floor <= 0 {
		cfg.Floor = min(1, cfg.Rate)
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 500 * time.Millisecond
	}
	if cfg.Step <= 0 {
		cfg.Step = max(cfg.Rate*0.01, 0.1)
	}
	limit := rate.Limit(cfg.Rate)
	if cfg.Rate <= 0 {
		limit = rate.Inf
	}
	now := cfg.Clock.Now()
	return &Limiter{cfg: cfg, lim: rate.NewLimiter(limit, cfg.Burst), current: cfg.Rate, lastChange: now}
}

// Wait blocks until an attempt may start or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error {
	if pause := l.adjust(); pause > 0 {
		t := time.NewTimer(pause)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
	return l.lim.Wait(ctx)
}

// adjust grows the rate after quiet intervals and returns any pool-wide pause left.
func (l *Limiter) adjust() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Clock.Now()
	if l.cfg.Adaptive && l.cfg.Rate > 0 && l.current < l.cfg.Rate {
		for steps := 0; now.Sub(l.lastChange) >= l.cfg.Interval && l.current < l.cfg.Rate && steps < 1000; steps++ {
			l.lastChange = l.lastChange.Add(l.cfg.Interval)
			target := l.lastThrottle * 0.95
			if l.current < target {
				// Fast recovery: halve the distance to the last rate known to be too high.
				l.current += max((target-l.current)/2, l.cfg.Step)
			} else {
				l.current += l.cfg.Step
			}
			l.current = min(l.current, l.cfg.Rate)
			l.lim.SetLimitAt(now, rate.Limit(l.current))
		}
	}
	if now.Before(l.pauseUntil) {
		return l.pauseUntil.Sub(now)
	}
	return 0
}

// OnThrottle tells the limiter Cognito answered TooManyRequestsException.
func (l *Limiter) OnThrottle() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.throttles++
	if !l.cfg.Adaptive || l.cfg.Rate <= 0 {
		return
	}
	now := l.cfg.Clock.Now()
	if !l.lastCut.IsZero() && now.Sub(l.lastCut) < l.cfg.Cooldown {
		return
	}
	l.lastThrottle = l.current
	l.current = max(l.current*l.cfg.Decrease, l.cfg.Floor)
	l.lastCut, l.lastChange = now, now
	l.lim.SetLimitAt(now, rate.Limit(l.current))
}

// PauseFor stops every attempt from starting until d from now (the fault breaker).
func (l *Limiter) PauseFor(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := l.cfg.Clock.Now().Add(d); until.After(l.pauseUntil) {
		l.pauseUntil = until
	}
}

// Rate is the current rate in requests/second (0 = unlimited).
func (l *Limiter) Rate() float64 {
	l.adjust()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.current
}

// Throttles counts the TooManyRequestsException answers seen.
func (l *Limiter) Throttles() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.throttles
}
