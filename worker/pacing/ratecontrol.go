package pacing

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
)

// RateControl is the adaptive part of the limiter for a fleet of uncoordinated peers on
// one quota (issue 11). It is a pure controller: it is told each attempt's outcome and
// says what rate to pace at; it sleeps and paces nothing itself. Not yet wired into the
// Limiter (adaptive.go is today's controller); ratecontrol_test.go simulates 1 to 64
// peers on one token bucket with it.
//
// Hints, not orders: every peer on a shared bucket sees the same throttle fraction, so
// each peer steers its own rate towards a small target fraction and the fleet settles
// there whatever its size. Per answer, in the small-signal regime:
//
//   - a throttle cuts the rate to Cut × what the peer actually sends (its workers may
//     be waiting out backoffs far below its allowance), jittered ± 10 %, then ignores
//     throttles for Cooldown (the same empty bucket);
//   - a success grows it × (1 + g), g uniform on [0, 2α), α = ln(1/Cut) × Target/(1−Target),
//     at most MaxGrowth per second, and only while the peer uses at least half its rate;
//
// so a peer is in equilibrium when Target of its attempts are throttled, whatever its
// rate: shares may drift, the fleet does not. Growth per success, not per second, makes
// a peer with a small share grow as slowly as it can measure — per-second recovery is
// what made 16 peers overshoot together. The jitter keeps peers cut by the same empty
// bucket from coming back in step.
//
// The large-signal regime is the start, or a quota that shrank: when DeepSamples or more
// settled answers of the last window (2 × DeepSamples at the current rate, 2 to 20 s,
// since the last deep cut) are DeepFraction or more throttled, the rate is cut at once
// to Margin × what got through — the peer's share of the empty bucket, which sums to
// the quota over the fleet — and no small cut follows until DeepSamples attempts at the
// new rates are in. Answers are counted once settled (twice the mean latency): a
// throttle comes back at once, a success only after the call.
//
// The floor is a trickle for a starved peer to keep measuring, not a share (64 peers at
// a 1/s floor are already 3.2 × a 20/s quota): 0.02/s, halved at each throttle while at
// it, down to one attempt in 5 minutes.
//
// With Reserve R, the controller remembers its rate when it last saw throttling and
// stays at least R below it; that bound creeps up by Probe per second, so freed capacity
// is found again, slowly.
type RateControl struct {
	cfg RateControlConfig

	mu        sync.Mutex
	rng       *rand.Rand
	rate      float64
	lastCut   time.Time     // successes of attempts started before it do not grow the rate
	coolUntil time.Time     // throttles of attempts started before it do not cut
	lastDeep  time.Time     // the deep regime measures attempts started after it
	floor     float64       // the current floor: Floor, halved while starved
	latency   time.Duration // moving mean of the successes' latency
	throttleR float64       // own rate when throttling was last seen (Reserve only); 0 = none
	boundAt   time.Time
	recent    []outcome // answers of the last deepWindowMax (+ a minute), by start time
	cuts      int64
}

type outcome struct {
	start, done time.Time
	throttled   bool
}

// RateControlConfig configures a RateControl. Zero fields get the defaults below.
type RateControlConfig struct {
	// Ceiling is the highest rate, requests/second (--rate); required, > 0 (an
	// unlimited limiter has nothing to control).
	Ceiling float64
	// Floor is the lowest rate (default RateControlFloorDefault, at most Ceiling). A
	// floor is paid by every peer: 64 replicas at 1/s already send 64/s whatever the
	// quota, so it is a trickle that keeps a starved peer measuring, not a share.
	Floor float64
	// Target is the throttle fraction the controller settles at (default 2 %).
	Target float64
	// Cut multiplies the rate on a throttle (default 0.85).
	Cut float64
	// Cooldown: throttles of attempts that started less than this after a cut say
	// nothing new (the bucket was still empty) and do not cut again (default 500 ms).
	Cooldown time.Duration
	// MaxGrowth bounds the growth per second (default 2 %/s): a peer with the whole
	// quota to itself probes as gently as today's limiter.
	MaxGrowth float64
	// DeepFraction, DeepSamples, Margin: the large-signal cut (defaults 0.2, 5, 0.95).
	DeepFraction float64
	DeepSamples  int
	Margin       float64
	// Reserve is the capacity, requests/second, left free below the rate at which
	// throttling was seen (--reserve); 0 = none.
	Reserve float64
	// Probe is how fast, per second, the reserve's bound creeps up (default 0.1 %/s).
	Probe float64
	// Seed seeds the growth jitter; 0 draws one.
	Seed  uint64
	Clock clock.Clock // nil: the system clock
}

// Defaults of RateControlConfig.
const (
	RateControlFloorDefault  = 0.02
	RateControlTargetDefault = 0.02
	RateControlCutDefault    = 0.85
	rateControlDeepFraction  = 0.2
	rateControlDeepSamples   = 5
	rateControlMargin        = 0.95
	rateControlProbe         = 0.001
	rateControlCooldown      = 500 * time.Millisecond
	rateControlMaxGrowth     = 0.02
	// A peer throttled at its floor halves the floor, down to one attempt in
	// starvedPeriod: a starved peer's trickle backs off instead of filling the quota.
	starvedPeriod = 5 * time.Minute
	// The large-signal regime looks at 2 × DeepSamples attempts at the current rate,
	// over at least deepWindowMin (so a bucket's burst does not pass for its rate) and
	// at most deepWindowMax, and judges only a window at least deepSpanMin long.
	deepWindowMin = 2 * time.Second
	deepWindowMax = 20 * time.Second
	deepSpanMin   = time.Second
	maxRecent     = 4096
	// validatedShare: the rate grows only while the peer sends at least this share of it.
	validatedShare = 0.5
)

// NewRateControl returns a controller starting at the ceiling.
func NewRateControl(cfg RateControlConfig) *RateControl {
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Floor <= 0 {
		cfg.Floor = RateControlFloorDefault
	}
	cfg.Floor = min(cfg.Floor, cfg.Ceiling)
	if cfg.Target <= 0 || cfg.Target >= 0.5 {
		cfg.Target = RateControlTargetDefault
	}
	if cfg.Cut <= 0 || cfg.Cut >= 1 {
		cfg.Cut = RateControlCutDefault
	}
	if cfg.DeepFraction <= 0 || cfg.DeepFraction > 1 {
		cfg.DeepFraction = rateControlDeepFraction
	}
	if cfg.DeepSamples <= 0 {
		cfg.DeepSamples = rateControlDeepSamples
	}
	if cfg.Margin <= 0 || cfg.Margin >= 1 {
		cfg.Margin = rateControlMargin
	}
	if cfg.Probe <= 0 {
		cfg.Probe = rateControlProbe
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = rateControlCooldown
	}
	if cfg.MaxGrowth <= 0 {
		cfg.MaxGrowth = rateControlMaxGrowth
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &RateControl{cfg: cfg, rate: cfg.Ceiling, floor: cfg.Floor, rng: rand.New(rand.NewPCG(seed, seed^0xda942042e4dd58b5))}
}

// Rate is the rate to pace at now, requests/second.
func (c *RateControl) Rate() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.boundedLocked(c.cfg.Clock.Now())
}

// Cuts counts the cuts made (both regimes).
func (c *RateControl) Cuts() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cuts
}

// growth is the mean growth per success that balances Cut at the Target fraction.
func (c *RateControl) growth() float64 {
	return math.Log(1/c.cfg.Cut) * c.cfg.Target / (1 - c.cfg.Target)
}

// Observe records the outcome of an attempt that started at started: throttled means
// TooManyRequestsException; anything else Cognito answered is not throttled. Faults
// (5xx, timeouts) say nothing about the quota and should not be observed.
func (c *RateControl) Observe(started time.Time, throttled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Clock.Now()
	c.record(now, started, throttled)
	if !throttled {
		lat := now.Sub(started)
		if c.latency == 0 {
			c.latency = lat
		}
		c.latency = (9*c.latency + lat) / 10
		if started.Before(c.lastCut) {
			return // paced at the rate before the cut
		}
		c.floor = c.cfg.Floor
		// Grow only a rate that is being used: workers waiting out backoffs leave it
		// untested, and would all come back to it at once (RFC 7661's rule for TCP).
		if n, _, span, _ := c.windowLocked(now); span > 0 && float64(n)/span.Seconds() < validatedShare*c.rate {
			// ... and let an unused allowance shrink at the pace it would have grown.
			c.rate = max(c.rate*(1-c.growth()), c.floor)
			return
		}
		// Mean growth() per success, uniform on [0, 2 × growth()) so that peers do not
		// move in step, and at most MaxGrowth per second at the current rate.
		g := min(2*c.growth()*c.rng.Float64(), c.cfg.MaxGrowth/c.rate)
		c.rate = min(c.rate*(1+g), c.cfg.Ceiling)
		c.rate = c.boundedLocked(now)
		return
	}
	if started.Before(c.coolUntil) {
		return // the bucket was still empty from the throttle that cut
	}
	c.noteThrottleLocked(now)
	if c.rate <= c.floor {
		c.floor = max(c.floor/2, 1/starvedPeriod.Seconds())
	}
	n, thr, span, sinceDeep := c.windowLocked(now)
	if span > 0 && n >= c.cfg.DeepSamples && float64(thr) >= c.cfg.DeepFraction*float64(n) {
		// Large signal: what got through is this peer's share of an empty bucket.
		if next := c.cfg.Margin * float64(n-thr) / span.Seconds(); next < c.rate {
			c.cutLocked(now, next)
			c.lastDeep = now
			return
		}
	}
	if !c.lastDeep.IsZero() && sinceDeep < c.cfg.DeepSamples && now.Sub(c.lastDeep) < deepWindowMax {
		return // every peer has just cut: wait for attempts at the new rates
	}
	// Small signal: × Cut of what this peer sends — its workers may be waiting out
	// backoffs, far below the rate it is allowed.
	base := c.rate
	if span > 0 && n >= 2 {
		base = min(base, float64(n)/span.Seconds())
	}
	c.cutLocked(now, base*c.cfg.Cut)
	c.coolUntil = now.Add(c.cfg.Cooldown)
}

// record keeps the answers of the last deepWindowMax (and a minute for late ones), in
// start order, at most maxRecent. The window scans are linear in them: fine at the
// tens to hundreds of requests a second this tool runs at.
func (c *RateControl) record(now, started time.Time, throttled bool) {
	horizon := now.Add(-deepWindowMax - time.Minute) // answers may come back late
	drop := 0
	for drop < len(c.recent) && c.recent[drop].start.Before(horizon) {
		drop++
	}
	if len(c.recent)-drop >= maxRecent {
		drop++
	}
	c.recent = append(c.recent[:0], c.recent[drop:]...)
	i := len(c.recent)
	for i > 0 && c.recent[i-1].start.After(started) {
		i--
	}
	c.recent = append(c.recent, outcome{})
	copy(c.recent[i+1:], c.recent[i:])
	c.recent[i] = outcome{start: started, done: now, throttled: throttled}
}

// windowLocked counts the attempts of the deep window: started since the last deep cut,
// within the last 2 × DeepSamples attempts at the current rate (2 s to 20 s), and at
// least settle ago — so that their answers are in: a throttle comes back at once, a
// success after the call's latency, and counting the ones still in flight would make
// the share look smaller than it is. span is 0 when the window is too short to judge.
func (c *RateControl) windowLocked(now time.Time) (n, thr int, span time.Duration, sinceDeep int) {
	w := time.Duration(2 * float64(c.cfg.DeepSamples) / c.rate * float64(time.Second))
	from := now.Add(-min(max(w, deepWindowMin), deepWindowMax))
	if from.Before(c.lastDeep) {
		from = c.lastDeep
	}
	end := now.Add(-c.settle())
	first := end
	for _, o := range c.recent {
		if !o.start.Before(c.lastDeep) {
			sinceDeep++
		}
		if o.start.Before(from) || o.start.After(end) {
			continue
		}
		first = minTime(first, o.start)
		n++
		if o.throttled {
			thr++
		}
	}
	if span = end.Sub(first); span < deepSpanMin {
		span = 0
	}
	return n, thr, span, sinceDeep
}

// settle is how long an answer may take: twice the mean success latency, 100 ms to 2 s.
func (c *RateControl) settle() time.Duration {
	return min(max(2*c.latency, 100*time.Millisecond), 2*time.Second)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// cutLocked cuts to next, jittered ±10 % (and a peer sent to its floor lands anywhere
// from half to 1.5 times it): peers cut by the same empty bucket at the same moment must
// not come back at the same moment.
func (c *RateControl) cutLocked(now time.Time, next float64) {
	next *= 0.9 + 0.2*c.rng.Float64()
	if next <= c.floor {
		next = c.floor * (0.5 + c.rng.Float64())
	}
	c.rate = min(next, c.cfg.Ceiling)
	c.lastCut, c.coolUntil = now, now
	c.cuts++
}

// noteThrottleLocked remembers the rate at which throttling is seen (for Reserve).
func (c *RateControl) noteThrottleLocked(now time.Time) {
	if c.cfg.Reserve <= 0 {
		return
	}
	c.throttleR, c.boundAt = c.rate, now
}

// boundedLocked applies the reserve: at least Reserve below the throttling rate, which
// creeps up by Probe per second since it was seen.
func (c *RateControl) boundedLocked(now time.Time) float64 {
	if c.cfg.Reserve <= 0 || c.throttleR <= 0 {
		return c.rate
	}
	bound := c.throttleR*math.Exp(c.cfg.Probe*now.Sub(c.boundAt).Seconds()) - c.cfg.Reserve
	c.rate = max(min(c.rate, bound), c.floor)
	return c.rate
}
