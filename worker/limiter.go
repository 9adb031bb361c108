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
	Clock Clock
}

// Limiter is the one rate limiter every Cognito attempt waits on, retries included.
// In adaptive mode it cuts its rate on TooManyRequestsException to just below the rate
// Cognito actually admitted over the last second (or × Decrease when it has no such
// measure) and grows it back after quiet intervals: quickly up to just below the rate at
// which the last throttle happened, then additively (probing) up to the ceiling.
// Without Adaptive it holds Rate exactly.
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

const (
	windowSlots = 10
	// minSamples: fewer attempts than this in the window and the admitted rate is noise.
	minSamples = 4
)

type slot struct {
	idx                 int64
	attempts, throttles int64
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
	if cfg.Margin <= 0 || cfg.Margin >= 1 {
		cfg.Margin = 0.9
	}
	if cfg.Floor <= 0 {
		cfg.Floor = 1
	}
	if cfg.Rate > 0 {
		cfg.Floor = min(cfg.Floor, cfg.Rate) // a cut never raises the rate
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Second
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = max(time.Second, cfg.Window)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 500 * time.Millisecond
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

func (l *Limiter) adaptive() bool { return l.cfg.Adaptive && l.cfg.Rate > 0 }

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
	if err := l.lim.Wait(ctx); err != nil {
		return err
	}
	if l.adaptive() {
		l.mu.Lock()
		now := l.cfg.Clock.Now()
		if l.firstAtt.IsZero() {
			l.firstAtt = now
		}
		l.slotAt(now).attempts++
		l.mu.Unlock()
	}
	return nil
}

// slotAt returns the window slot for now, cleared if it held an older slot's counts.
func (l *Limiter) slotAt(now time.Time) *slot {
	idx := now.UnixNano() / int64(l.slotDur)
	s := &l.slots[idx%windowSlots]
	if s.idx != idx {
		*s = slot{idx: idx}
	}
	return s
}

// admitted is the rate of attempts that were not throttled over the last Window (or
// since the first attempt, if that is more recent); ok is false with too few attempts.
func (l *Limiter) admitted(now time.Time) (float64, bool) {
	cur := now.UnixNano() / int64(l.slotDur)
	var att, thr int64
	for _, s := range l.slots {
		if s.idx > cur-windowSlots && s.idx <= cur {
			att += s.attempts
			thr += s.throttles
		}
	}
	if att < minSamples || l.firstAtt.IsZero() {
		return 0, false
	}
	span := time.Duration(windowSlots-1)*l.slotDur + now.Sub(time.Unix(0, cur*int64(l.slotDur)))
	span = max(min(span, now.Sub(l.firstAtt)), l.slotDur)
	return float64(max(att-thr, 0)) / span.Seconds(), true
}

// adjust grows the rate after quiet intervals and returns any pool-wide pause left.
func (l *Limiter) adjust() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Clock.Now()
	if l.adaptive() && l.current < l.cfg.Rate {
		step := l.cfg.Step
		if step <= 0 {
			base := l.lastThrottle
			if base <= 0 {
				base = l.cfg.Rate
			}
			step = max(base*0.01, 0.01)
		}
		for steps := 0; now.Sub(l.lastChange) >= l.cfg.Interval && l.current < l.cfg.Rate && steps < 1000; steps++ {
			l.lastChange = l.lastChange.Add(l.cfg.Interval)
			target := l.lastThrottle * 0.95
			if l.current < target {
				// Fast recovery: halve the distance to just below the last known limit.
				l.current += max((target-l.current)/2, step)
			} else {
				l.current += step
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
	if !l.adaptive() {
		return
	}
	now := l.cfg.Clock.Now()
	l.slotAt(now).throttles++
	if !l.lastCut.IsZero() && now.Sub(l.lastCut) < l.cfg.Cooldown {
		return
	}
	next := l.current * l.cfg.Decrease
	l.lastThrottle = l.current
	if adm, ok := l.admitted(now); ok && adm < l.current {
		// Cut to just under what got through; at the old rate, all of it did.
		next = l.cfg.Margin * adm
		l.lastThrottle = adm
	} else if ok {
		next = l.cfg.Margin * l.current
	}
	l.current = max(next, l.cfg.Floor)
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
