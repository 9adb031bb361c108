package pacing

import (
	"math"
	"math/rand/v2"
	"time"
)

// controller is the Limiter's adaptive part: told each answer, it says what rate to pace
// at. It converges with any number of uncoordinated peers on one quota, because every
// peer on a shared bucket sees the same throttled fraction: each steers its own rate
// towards a small target fraction, and the fleet converges there whatever its size.
// Per answer, in the small-signal regime:
//
//   - a throttle cuts the rate to cutFactor × what the process actually sends (its
//     workers may be waiting out backoffs, far below its allowance), jittered ± 10 %,
//     then ignores throttles of attempts started within controlCooldown (the same empty
//     bucket);
//   - a success grows it × (1 + g), g uniform on [0, 2α), α = ln(1/cutFactor) × T/(1−T)
//     for the target fraction T, at most maxGrowth per second, and only while the
//     process sends at least validatedShare of its rate;
//
// so a peer is in equilibrium when T of its attempts are throttled, whatever its share.
// Growth per success, not per second, makes a peer with a small share grow as slowly as
// it can measure (per-second recovery made 16 peers overshoot together); the jitter
// keeps peers cut by the same empty bucket from coming back in step.
//
// The large-signal regime is the start, or a quota that shrank: when deepSamples or more
// answered attempts of the last window (2 × deepSamples at the current rate, 2 to 20 s,
// since the last deep cut) are deepFraction or more throttled, the rate is cut at once
// to deepMargin × what got through since the bucket ran empty — the process's share of
// the empty bucket, which sums to the quota over the fleet — and no small cut follows
// until deepSamples attempts at the new rate are in (or deepGuard has passed). Answers
// are counted once their answer time has passed (answerWait: twice the mean latency): a
// throttle comes back at once, a success only after the call.
//
// The floor is a trickle that keeps a starved process measuring, not a share: 64
// replicas at a 1/s floor would send 3.2 × a 20/s quota whatever it is. It is
// LimiterConfig.Floor (FloorDefault, 0.02/s), halved at each throttle while at it, down
// to one attempt in starvedPeriod.
//
// With a reserve R, the controller remembers the rate it last saw throttling at (the
// limit) and stays at least R below it. At a small cut that is the rate it was at, taken
// at most once per limitGuard (throttles right after one are the same bucket refilling,
// and each taken would step the bound down by R again); at a deep cut, the share it
// measured. The first throttle of a run comes at --rate once
// the bucket's burst ran out and says little about the share: its limit is cutFactor ×
// the rate it cut to (cutFactor² × what it sent), on the reserve's side, since a limit
// noted too high lets the rest of the account be throttled until the next cut, and
// capacity left over is found again by the probe. At every cut, what Cognito admitted
// since the bucket ran empty, when that is lower, since throttles come while the rate is
// on its way down. A throttle at the bound lowers the limit again (the
// rest of the account grew). After probeHold at the bound the limit creeps up by
// probeRate per second, so capacity the rest of the account freed is found again,
// slowly. Until a throttle is seen there is no limit to stay below: --rate alone
// applies, and it is the operator's. R is per process: a limit at or below R leaves the
// process at its floor.
type controller struct {
	ceiling  float64
	cfgFloor float64 // LimiterConfig.Floor
	minFloor float64 // cfgFloor, at most the ceiling
	target   float64
	reserve  float64
	rng      *rand.Rand

	rate      float64
	floor     float64   // the current floor: minFloor, halved while starved
	lastCut   time.Time // successes of attempts started before it do not grow the rate
	coolUntil time.Time // throttles of attempts started before it do not cut
	lastDeep  time.Time // the deep regime measures attempts started after it
	sinceDeep int       // answers to attempts started since lastDeep
	latency   time.Duration
	limit     float64   // the reserve's limit (reserve only; 0: no throttle seen yet)
	limitAt   time.Time // when it was noted
	win       answers
}

// Constants of the controller; LimiterConfig sets the floor, the target and the reserve.
const (
	cutFactor       = 0.85
	deepFraction    = 0.2
	deepSamples     = 5
	deepMargin      = 0.95
	controlCooldown = 500 * time.Millisecond
	maxGrowth       = 0.02 // per second
	// A process throttled at its floor halves the floor, down to one attempt in
	// starvedPeriod: a starved trickle backs off instead of filling the quota.
	starvedPeriod = 5 * time.Minute
	// The window: 2 × deepSamples attempts at the current rate, at least deepWindowMin
	// (so a bucket's burst does not pass for its rate), at most deepWindowMax; judged
	// only when at least deepSpanMin long.
	deepWindowMin = 2 * time.Second
	deepWindowMax = 20 * time.Second
	deepSpanMin   = time.Second
	// deepGuard: after a deep cut, no small cut until deepSamples answers to attempts at
	// the new rate are in, or this long (a small share takes a while to send them).
	deepGuard = 2 * time.Second
	// answerWait bounds: an answer may take twice the mean latency, within these.
	answerWaitMin = 100 * time.Millisecond
	answerWaitMax = 2 * time.Second
	// validatedShare: the rate grows only while the process sends at least this share
	// of it (RFC 7661's rule for TCP): workers waiting out backoffs leave it untested,
	// and would all come back to it at once.
	validatedShare = 0.5
	// The reserve's limit is held probeHold after it was noted (a probe into the rest of
	// the account's share at most once a minute), then creeps up by probeRate a second.
	probeHold = time.Minute
	probeRate = 0.001
	// limitGuard: a small cut takes the rate it came at as the reserve's limit at most
	// this often after the last; within it only what Cognito admitted lowers the limit.
	// Throttles soon after a cut are the same bucket still refilling below a process
	// that just cut, not a smaller share.
	limitGuard = 5 * time.Second
)

func newController(ceiling float64, cfg LimiterConfig, seed uint64) *controller {
	c := &controller{ceiling: ceiling, target: cfg.Target, reserve: cfg.Reserve, rate: ceiling,
		rng: rand.New(rand.NewPCG(seed, seed^0xda942042e4dd58b5))}
	c.cfgFloor = cfg.Floor
	c.minFloor = min(cfg.Floor, ceiling)
	c.floor = c.minFloor
	return c
}

// growth is the mean growth per success that balances cutFactor at the target fraction.
func (c *controller) growth() float64 {
	return math.Log(1/cutFactor) * c.target / (1 - c.target)
}

// observe records the answer, at now, to an attempt that started at started.
func (c *controller) observe(now, started time.Time, throttled bool) {
	c.win.add(started, throttled)
	if !started.Before(c.lastDeep) {
		c.sinceDeep++
	}
	if throttled {
		c.throttled(now, started)
		return
	}
	lat := now.Sub(started)
	if c.latency == 0 {
		c.latency = lat
	}
	c.latency = (9*c.latency + lat) / 10
	if started.Before(c.lastCut) {
		return // paced at the rate before the cut
	}
	c.floor = c.minFloor
	if !c.used(now) {
		return // an unused rate is untested: neither grown nor cut
	}
	// Mean growth() per success, uniform on [0, 2 × growth()) so that peers do not move
	// in step, and at most maxGrowth per second at the current rate.
	g := min(2*c.growth()*c.rng.Float64(), maxGrowth/c.rate)
	c.rate = min(c.rate*(1+g), c.ceiling)
	c.bounded(now)
}

func (c *controller) throttled(now, started time.Time) {
	if started.Before(c.coolUntil) {
		return // the bucket was still empty from the throttle that cut
	}
	if c.rate <= c.floor {
		c.floor = max(c.floor/2, 1/starvedPeriod.Seconds())
	}
	n, thr, span := c.window(now, false)
	if span > 0 && n >= deepSamples && float64(thr) >= deepFraction*float64(n) {
		// Large signal: what got through since the bucket ran empty (the window's first
		// throttle; before it the bucket's burst, or fewer peers) is this process's share.
		if dn, dthr, dspan := c.window(now, true); dspan > 0 && dn >= deepSamples {
			n, thr, span = dn, dthr, dspan
		}
		if next := deepMargin * float64(n-thr) / span.Seconds(); next < c.rate {
			c.cut(now, next)
			c.lastDeep, c.sinceDeep = now, 0
			c.noteLimit(now, c.rate)
			return
		}
	}
	if !c.lastDeep.IsZero() && c.sinceDeep < deepSamples && now.Sub(c.lastDeep) < deepGuard {
		return // every peer has just cut deep: wait for attempts at the new rates
	}
	// Small signal: × cutFactor of what this process sends.
	sending := c.rate
	if span > 0 && n >= 2 {
		sending = min(sending, float64(n)/span.Seconds())
	}
	at := c.rate
	c.cut(now, sending*cutFactor)
	c.coolUntil = now.Add(controlCooldown)
	switch {
	case c.reserve <= 0:
	case c.limit == 0:
		// The first: at --rate, once the bucket's burst ran out (see controller).
		c.noteLimit(now, cutFactor*cutFactor*sending)
	case now.Sub(c.limitAt) >= limitGuard:
		c.noteLimit(now, at)
	default:
		c.noteLimit(now, c.limit)
	}
}

// noteLimit sets the reserve's limit (reserve only) to limit, or to what Cognito admitted
// since the bucket ran empty (the window's first throttle) if that is lower.
func (c *controller) noteLimit(now time.Time, limit float64) {
	if c.reserve <= 0 {
		return
	}
	if n, thr, span := c.window(now, true); span > 0 {
		limit = min(limit, float64(n-thr)/span.Seconds())
	}
	c.limit, c.limitAt = limit, now
}

// window counts the answered attempts of the window ending now: attempts started since the
// last deep cut, within the last 2 × deepSamples attempts at the current rate (2 to 20 s),
// and at least answerWait ago — a throttle comes back at once, a success after the call, so
// counting answers still in flight would make the share look smaller than it is. span
// is 0 when the window is too short to judge.
func (c *controller) window(now time.Time, fromThrottle bool) (n, thr int64, span time.Duration) {
	w := time.Duration(2 * deepSamples / c.rate * float64(time.Second))
	from := now.Add(-min(max(w, deepWindowMin), deepWindowMax))
	if from.Before(c.lastDeep) {
		from = c.lastDeep
	}
	n, thr, span = c.win.count(from, now.Add(-c.answerWait()), fromThrottle)
	if span < deepSpanMin {
		span = 0
	}
	return n, thr, span
}

// used reports whether the process sends at least validatedShare of its rate. A window
// too short to judge (sparse answers) is widened to deepWindowMax, since the last deep
// cut; with nothing to judge by yet, the rate counts as used.
func (c *controller) used(now time.Time) bool {
	n, _, span := c.window(now, false)
	if span == 0 {
		from := now.Add(-deepWindowMax)
		if from.Before(c.lastDeep) {
			from = c.lastDeep
		}
		if n, _, span = c.win.count(from, now.Add(-c.answerWait()), false); span < deepSpanMin {
			return true
		}
	}
	return float64(n)/span.Seconds() >= validatedShare*c.rate
}

// answerWait is how long an answer may take: twice the mean success latency, within
// bounds.
func (c *controller) answerWait() time.Duration {
	return min(max(2*c.latency, answerWaitMin), answerWaitMax)
}

// cut cuts to next, jittered ± 10 % (a process sent to its floor lands anywhere from half
// to 1.5 times it): peers cut by the same empty bucket at the same moment must not come
// back at the same moment.
func (c *controller) cut(now time.Time, next float64) {
	next *= 0.9 + 0.2*c.rng.Float64()
	if next <= c.floor {
		next = c.floor * (0.5 + c.rng.Float64())
	}
	c.rate = min(next, c.ceiling)
	c.lastCut, c.coolUntil = now, now
}

// bounded applies the reserve: at least reserve below the limit, which creeps up by
// probeRate per second once held probeHold. It returns the rate.
func (c *controller) bounded(now time.Time) float64 {
	if c.reserve <= 0 || c.limit <= 0 {
		return c.rate
	}
	held := max(now.Sub(c.limitAt)-probeHold, 0)
	bound := c.limit*math.Exp(probeRate*held.Seconds()) - c.reserve
	c.rate = max(min(c.rate, bound), c.floor)
	return c.rate
}

// setCeiling moves the ceiling (a fleet budget's share, at run time). The rate and the
// reserve's limit move in proportion: a cut on top of the old ceiling stays a cut of the
// same depth on top of the new one.
func (c *controller) setCeiling(ceiling float64) {
	f := ceiling / c.ceiling
	c.ceiling, c.rate, c.limit = ceiling, min(c.rate*f, ceiling), c.limit*f
	c.minFloor = min(c.cfgFloor, ceiling)
	c.floor = min(c.floor, c.minFloor)
}
