package quotasim

import (
	"hash/maphash"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of the simulator's counters (GET /__sim/stats).
//
// Only limited calls (ResendConfirmationCode unless Targets or LimitAllTargets
// say otherwise) are counted in Calls and below; other targets only bump
// Passthrough.
type Stats struct {
	// Calls counts limited calls received (including throttled and faulted ones).
	Calls int64 `json:"calls"`
	// Successes counts HTTP 200 answers (from upstream or instant mode).
	Successes int64 `json:"successes"`
	// Throttled counts TooManyRequestsException answers from the bucket.
	Throttled int64 `json:"throttled"`
	// UpstreamNon200 counts limited calls the upstream answered with a status other than 200.
	UpstreamNon200 int64 `json:"upstream_non200"`
	// UpstreamErrors counts calls (limited or not) the upstream could not be reached for.
	UpstreamErrors int64 `json:"upstream_errors"`
	// Passthrough counts calls to targets that are not limited.
	Passthrough int64 `json:"passthrough"`
	// Faults counts injected faults by kind.
	Faults FaultCounts `json:"faults"`
	// InjectedByType counts injected typed errors (per-user and all-calls) by AWS error type.
	InjectedByType map[string]int64 `json:"injected_by_type"`
	// FirstCall and LastCall are the times of the first and the latest limited
	// call (zero when there was none).
	FirstCall time.Time `json:"first_call"`
	LastCall  time.Time `json:"last_call"`
	// PerUser maps username → counters (omitted by GET /__sim/stats?users=0).
	PerUser map[string]UserStats `json:"per_user,omitempty"`
	// PerClient maps client (the SDK app id of the caller, see HeaderClient) → counters
	// and per-second series.
	PerClient map[string]ClientStats `json:"per_client"`
	// PerSecond is a dense, time-ordered histogram of successes and throttles
	// by wall-clock second (the clock of Config.Clock), from the first
	// recorded second to the last.
	PerSecond []SecondStats `json:"per_second"`
	// PerOp maps each operation (X-Amz-Target's last part) to its calls, limited or
	// not, throttled ones included (categories.go).
	PerOp map[string]OpStats `json:"per_op"`
}

// FaultCounts counts injected faults by kind.
type FaultCounts struct {
	Internal500 int64 `json:"5xx"`
	Unavail503  int64 `json:"503"`
	Timeout     int64 `json:"timeout"`
	ConnReset   int64 `json:"reset"`
	// Injected counts typed errors from Config.Inject and Config.InjectAll.
	Injected int64 `json:"injected"`
}

// Total is the sum of all fault kinds.
func (f FaultCounts) Total() int64 {
	return f.Internal500 + f.Unavail503 + f.Timeout + f.ConnReset + f.Injected
}

// UserStats counts one username's limited calls.
type UserStats struct {
	Calls     int64 `json:"calls"`
	Successes int64 `json:"successes"`
	Throttled int64 `json:"throttled"`
}

// SecondStats is one second of the histogram.
type SecondStats struct {
	Unix      int64 `json:"unix"`
	Successes int64 `json:"successes"`
	Throttled int64 `json:"throttled"`
}

// RatesAfter returns successes and throttles per second over the complete
// seconds that start at least warmup after the first call's second and end
// before the last recorded second (which is usually partial). ok is false
// when that window is empty.
func (s Stats) RatesAfter(warmup time.Duration) (successPerSec, throttledPerSec float64, ok bool) {
	from, to, ok := s.JudgedSeconds(warmup)
	if !ok {
		return 0, 0, false
	}
	var succ, thr int64
	for _, ps := range s.PerSecond {
		if ps.Unix >= from && ps.Unix < to {
			succ += ps.Successes
			thr += ps.Throttled
		}
	}
	n := float64(to - from)
	return float64(succ) / n, float64(thr) / n, true
}

// JudgedSeconds is the window RatesAfter averages over, as Unix seconds [from, to):
// from the first recorded second + warmup (rounded up to whole seconds) to the last
// recorded second, excluded. ok is false when it is empty.
func (s Stats) JudgedSeconds(warmup time.Duration) (from, to int64, ok bool) {
	if len(s.PerSecond) == 0 {
		return 0, 0, false
	}
	from = s.PerSecond[0].Unix + int64((warmup+time.Second-1)/time.Second)
	to = s.PerSecond[len(s.PerSecond)-1].Unix
	return from, to, to > from
}

// ---- live counters ----

type userCounters struct {
	calls, successes, throttled atomic.Int64
}

const userShards = 64

type userShard struct {
	mu sync.Mutex
	m  map[string]*userCounters
	_  [40]byte // keep shards on separate cache lines
}

type counters struct {
	calls, successes, throttled, upstreamNon200, upstreamErrors, passthrough atomic.Int64
	f500, f503, fTimeout, fReset, fInjected                                  atomic.Int64
	first, last                                                              atomic.Int64 // unix nanos, 0 = none

	injMu     sync.Mutex
	injByType map[string]int64

	seed   maphash.Seed
	shards [userShards]userShard

	hist    histogram
	clients clientTable
}

func newCounters() *counters {
	c := &counters{seed: maphash.MakeSeed(), injByType: map[string]int64{}}
	for i := range c.shards {
		c.shards[i].m = map[string]*userCounters{}
	}
	return c
}

func (c *counters) user(name string) *userCounters {
	sh := &c.shards[maphash.String(c.seed, name)%userShards]
	sh.mu.Lock()
	u := sh.m[name]
	if u == nil {
		u = &userCounters{}
		sh.m[name] = u
	}
	sh.mu.Unlock()
	return u
}

func (c *counters) markCall(now time.Time) {
	n := now.UnixNano()
	c.first.CompareAndSwap(0, n)
	for {
		old := c.last.Load()
		if old >= n || c.last.CompareAndSwap(old, n) {
			return
		}
	}
}

func (c *counters) injected(typ string) {
	c.fInjected.Add(1)
	c.injMu.Lock()
	c.injByType[typ]++
	c.injMu.Unlock()
}

func (c *counters) reset() {
	for _, a := range []*atomic.Int64{&c.calls, &c.successes, &c.throttled, &c.upstreamNon200, &c.upstreamErrors,
		&c.passthrough, &c.f500, &c.f503, &c.fTimeout, &c.fReset, &c.fInjected, &c.first, &c.last} {
		a.Store(0)
	}
	c.injMu.Lock()
	c.injByType = map[string]int64{}
	c.injMu.Unlock()
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.m = map[string]*userCounters{}
		sh.mu.Unlock()
	}
	c.hist.reset()
	c.clients.reset()
}

func (c *counters) snapshot(withUsers bool) Stats {
	s := Stats{
		Calls:          c.calls.Load(),
		Successes:      c.successes.Load(),
		Throttled:      c.throttled.Load(),
		UpstreamNon200: c.upstreamNon200.Load(),
		UpstreamErrors: c.upstreamErrors.Load(),
		Passthrough:    c.passthrough.Load(),
		Faults: FaultCounts{
			Internal500: c.f500.Load(),
			Unavail503:  c.f503.Load(),
			Timeout:     c.fTimeout.Load(),
			ConnReset:   c.fReset.Load(),
			Injected:    c.fInjected.Load(),
		},
		InjectedByType: map[string]int64{},
		PerSecond:      c.hist.snapshot(),
		PerClient:      c.clients.snapshot(),
	}
	if n := c.first.Load(); n != 0 {
		s.FirstCall = time.Unix(0, n).UTC()
	}
	if n := c.last.Load(); n != 0 {
		s.LastCall = time.Unix(0, n).UTC()
	}
	c.injMu.Lock()
	for k, v := range c.injByType {
		s.InjectedByType[k] = v
	}
	c.injMu.Unlock()
	if withUsers {
		s.PerUser = map[string]UserStats{}
		for i := range c.shards {
			sh := &c.shards[i]
			sh.mu.Lock()
			for name, u := range sh.m {
				s.PerUser[name] = UserStats{Calls: u.calls.Load(), Successes: u.successes.Load(), Throttled: u.throttled.Load()}
			}
			sh.mu.Unlock()
		}
	}
	return s
}

// histogram is a dense per-second series; seconds before the first recorded
// one are folded into it.
type histogram struct {
	mu   sync.Mutex
	base int64
	secs []SecondStats
}

const maxHistSeconds = 7 * 24 * 3600

func (h *histogram) add(now time.Time, succ, thr int64) {
	sec := now.Unix()
	h.mu.Lock()
	if len(h.secs) == 0 {
		h.base = sec
		h.secs = append(h.secs, SecondStats{Unix: sec})
	}
	idx := sec - h.base
	if idx < 0 {
		idx = 0
	}
	if idx >= maxHistSeconds {
		idx = maxHistSeconds - 1
	}
	for int64(len(h.secs)) <= idx {
		h.secs = append(h.secs, SecondStats{Unix: h.base + int64(len(h.secs))})
	}
	h.secs[idx].Successes += succ
	h.secs[idx].Throttled += thr
	h.mu.Unlock()
}

func (h *histogram) snapshot() []SecondStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]SecondStats, len(h.secs))
	copy(out, h.secs)
	return out
}

func (h *histogram) reset() {
	h.mu.Lock()
	h.secs = nil
	h.mu.Unlock()
}

// SortedUsers returns the usernames in PerUser, sorted.
func (s Stats) SortedUsers() []string {
	out := make([]string, 0, len(s.PerUser))
	for u := range s.PerUser {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// success counts an HTTP 200 answer for a user and a client.
func (c *counters) success(uc *userCounters, cc *clientCounters, now time.Time) {
	c.successes.Add(1)
	uc.successes.Add(1)
	cc.successes.Add(1)
	c.hist.add(now, 1, 0)
	cc.hist.add(now, 1, 0)
}
