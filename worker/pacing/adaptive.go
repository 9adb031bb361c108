package pacing

import (
	"time"

	"golang.org/x/time/rate"
)

// The adaptive controller of Limiter: it measures what Cognito admitted, cuts on a
// throttle and grows back when quiet.

const (
	windowSlots = 10
	// minSamples: fewer attempts than this in the window and the admitted rate is noise.
	minSamples = 4
)

type slot struct {
	idx                 int64
	attempts, throttles int64
}

func (l *Limiter) adaptive() bool { return l.cfg.Adaptive && l.cfg.Rate > 0 }

// counted records an attempt that got its token (adaptive mode only).
func (l *Limiter) counted() {
	if !l.adaptive() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Clock.Now()
	if l.firstAtt.IsZero() {
		l.firstAtt = now
	}
	l.slotAt(now).attempts++
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
