package pacing

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cognito-resend/cognito-resend/worker/clock"
)

// Defaults of --rate, --burst and --adaptive.
const (
	// RateDefault stays below the smallest candidate quota of ResendConfirmationCode
	// (30 RPS), with headroom for the live application sharing it.
	RateDefault     = 20.0
	BurstDefault    = 1
	AdaptiveDefault = true
)

// LimiterConfig configures the shared rate limiter. Zero fields get the XxxDefault
// values of this package, except Rate: zero (or less) means unlimited.
type LimiterConfig struct {
	Rate     float64 // ceiling, requests/second; <= 0 means unlimited
	Burst    int
	Adaptive bool
	// Floor is the lowest rate a throttle can cut to (at most Rate).
	Floor float64
	// Decrease multiplies the rate on a throttle when the limiter has no measure of
	// what Cognito admitted (fewer than a few attempts in the last Window) (e.g. 0.7).
	Decrease float64
	// Margin: on a throttle the rate is cut to Margin × the rate Cognito admitted
	// (attempts not throttled) over the last Window, when that is lower than the
	// current rate (default 0.9). A throttle means the shared bucket is empty, so what
	// got through is this process's share of the quota: the cut lands just under it,
	// whether the rate was far above (heavy throttling: one deep cut instead of several
	// × Decrease steps) or just above (a gentle cut, not × 0.7).
	Margin float64
	// Window is how far back the admitted rate is measured (default 1s).
	Window time.Duration
	// Cooldown is the minimum time between two cuts: throttles from calls already in
	// flight when the first one arrived must not cut again (default 1s, at least Window
	// so a second cut measures only what the first one changed).
	Cooldown time.Duration
	// Interval is the quiet time after which the rate grows one step (default 500ms).
	Interval time.Duration
	// Step is the additive growth per quiet interval once the rate is back near the
	// rate at which the last throttle happened. Zero means 1 % of that rate (the
	// estimated quota share), so probing is as gentle at 5 req/s as at 500.
	Step  float64
	Clock clock.Clock
}

// Defaults of the adaptive controller (LimiterConfig's zero fields).
const (
	DecreaseDefault = 0.7
	MarginDefault   = 0.9
	FloorDefault    = 1.0
	WindowDefault   = time.Second
	CooldownDefault = time.Second
	IntervalDefault = 500 * time.Millisecond
)

// Limiter is the one rate limiter every Cognito attempt waits on, retries included.
// In adaptive mode it cuts its rate on TooManyRequestsException to just below the rate
// Cognito actually admitted over the last second (or × Decrease when it has no such
// measure) and grows it back after quiet intervals: quickly up to just below the rate at
// which the last throttle happened, then additively (probing) up to the ceiling
// (adaptive.go). Without Adaptive it holds Rate exactly. The token bucket is
// golang.org/x/time/rate, driven by the Clock: reservations are made at Clock.Now and
// waited out on a Clock timer.
type Limiter struct {
	cfg LimiterConfig
	lim *rate.Limiter

	mu           sync.Mutex
	current      float64
	lastThrottle float64 // estimated limit at the last cut; 0 = none yet
	lastCut      time.Time
	lastChange   time.Time
	throttles    int64
	pauseUntil   time.Time

	// Attempts and throttles per slot of Window/windowSlots (adaptive mode only).
	slots    [windowSlots]slot
	slotDur  time.Duration
	firstAtt time.Time
}

// NewLimiter builds a limiter. Zero fields of cfg get defaults.
func NewLimiter(cfg LimiterConfig) *Limiter {
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Burst <= 0 {
		cfg.Burst = BurstDefault
	}
	if cfg.Decrease <= 0 || cfg.Decrease >= 1 {
		cfg.Decrease = DecreaseDefault
	}
	if cfg.Margin <= 0 || cfg.Margin >= 1 {
		cfg.Margin = MarginDefault
	}
	if cfg.Floor <= 0 {
		cfg.Floor = FloorDefault
	}
	if cfg.Rate > 0 {
		cfg.Floor = min(cfg.Floor, cfg.Rate) // a cut never raises the rate
	}
	if cfg.Window <= 0 {
		cfg.Window = WindowDefault
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = max(CooldownDefault, cfg.Window)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = IntervalDefault
	}
	limit := rate.Limit(cfg.Rate)
	if cfg.Rate <= 0 {
		limit = rate.Inf
	}
	now := cfg.Clock.Now()
	return &Limiter{
		cfg: cfg, lim: rate.NewLimiter(limit, cfg.Burst), current: cfg.Rate, lastChange: now,
		slotDur: max(cfg.Window/windowSlots, time.Nanosecond),
	}
}

// Wait blocks until an attempt may start or ctx is done. A pause (PauseFor) ends with
// context.Cause(ctx); the token wait, like rate.Limiter.Wait, with ctx.Err().
func (l *Limiter) Wait(ctx context.Context) error {
	if pause := l.adjust(); pause > 0 {
		if err := clock.Sleep(ctx, l.cfg.Clock, pause); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := l.cfg.Clock.Now()
	r := l.lim.ReserveN(now, 1) // Burst >= 1: always OK
	if d := r.DelayFrom(now); d > 0 {
		t := l.cfg.Clock.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			r.CancelAt(l.cfg.Clock.Now()) // give the token back
			return ctx.Err()
		case <-t.Chan():
		}
	}
	l.counted()
	return nil
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
