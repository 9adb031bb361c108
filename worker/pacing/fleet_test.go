package pacing_test

import (
	"cmp"
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// Fleets of uncoordinated processes on one token bucket, simulated on a fake clock: each
// peer is a pacing.Limiter (adaptive) told every answer, paced like Limiter.Wait (one
// reservation at a time on an x/time/rate bucket at the limiter's rate, burst 1, looked
// at again after a second), with `workers` workers retrying throttles with the
// resender's backoff. The quota is quotasim's Bucket (Q = 20, burst 20); an admitted
// call takes 80-120 ms, a throttle comes back in 2 ms, and a call reaches the bucket
// 1-10 ms after it starts (without that jitter a peer paced at exactly Q would own every
// token forever). Judged like `make bench`: complete seconds after the warm-up.

type fleetCase struct {
	peers, workers int
	ceiling        float64
	live           float64 // the live client's mean rate, Poisson (0 = none)
	liveSeed       int64   // seeds its arrivals (0: from seed)
	reserve        float64
	dur, warm      time.Duration
	seed           uint64
	// spread: processes start uniformly over it (default 50 ms); a loaded machine
	// starts 64 processes over seconds.
	spread time.Duration
	// At freeAt (if set) all peers but the one at the median rate stop: how fast the
	// survivor takes the freed capacity up.
	freeAt time.Duration
}

type fleetResult struct {
	secs               int
	succ, thr          []float64 // per second: the fleet's successes and throttles
	liveSucc, liveThr  []float64
	peerSucc           [][]float64
	rates              [][]float64 // per peer, its limiter's rate at each second
	survivor           int         // with freeAt: the peer that went on
	finalRates         []float64
	minShare, maxShare float64 // the peers' successes/s over [warm, dur)
}

// over sums a per-second series over [from, to) seconds.
func over(s []float64, from, to int) float64 {
	var v float64
	for _, x := range s[from:to] {
		v += x
	}
	return v
}

// thrFrac is throttled ÷ answered over [from, to) s; util is successes/s ÷ Q.
func (r fleetResult) thrFrac(from, to int) float64 {
	s, t := over(r.succ, from, to), over(r.thr, from, to)
	return t / max(s+t, 1)
}

func (r fleetResult) util(from, to int) float64 {
	return over(r.succ, from, to) / float64(to-from) / simQ
}

func (r fleetResult) liveThrFrac(from, to int) float64 {
	s, t := over(r.liveSucc, from, to), over(r.liveThr, from, to)
	return t / max(s+t, 1)
}

func (r fleetResult) campaign(from, to int) float64 {
	return (over(r.succ, from, to) - over(r.liveSucc, from, to)) / float64(to-from)
}

const simQ = 20.0

type simEvent struct {
	at  time.Time
	seq int64
	fn  func()
}

type eventQueue []simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at.Before(q[j].at) || (q[i].at.Equal(q[j].at) && q[i].seq < q[j].seq)
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type sim struct {
	clock *clockwork.FakeClock
	q     eventQueue
	seq   int64
}

func (s *sim) at(t time.Time, fn func()) {
	s.seq++
	heap.Push(&s.q, simEvent{t, s.seq, fn})
}

// simPeer paces its workers as Limiter.Wait does: one waiter at a time holds a
// reservation on a burst-1 bucket at the limiter's current rate.
type simPeer struct {
	s       *sim
	l       *pacing.Limiter
	bucket  *rate.Limiter
	waiting []func(start time.Time)
	holding bool
	stopped bool
	recheck time.Duration
}

func (p *simPeer) wait(fn func(start time.Time)) {
	p.waiting = append(p.waiting, fn)
	p.next()
}

func (p *simPeer) next() {
	if p.holding || len(p.waiting) == 0 || p.stopped {
		return
	}
	p.holding = true
	p.try()
}

func (p *simPeer) try() {
	now := p.s.clock.Now()
	p.bucket.SetLimitAt(now, rate.Limit(p.l.Rate()))
	r := p.bucket.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d <= 0 {
		p.grant()
		return
	}
	p.s.at(now.Add(min(d, p.recheck)), func() {
		if d <= p.recheck {
			p.grant()
			return
		}
		r.CancelAt(p.s.clock.Now())
		p.try()
	})
}

func (p *simPeer) grant() {
	fn := p.waiting[0]
	p.waiting = p.waiting[1:]
	p.holding = false
	fn(p.s.clock.Now())
	p.next()
}

func simulateFleet(fc fleetCase) fleetResult {
	s := &sim{clock: clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))}
	t0 := s.clock.Now()
	bucket := quotasim.NewBucket(s.clock, simQ, int(simQ))
	rng := rand.New(rand.NewPCG(fc.seed, 7))
	end := t0.Add(fc.dur)
	secs := int(fc.dur / time.Second)
	res := fleetResult{secs: secs, succ: make([]float64, secs), thr: make([]float64, secs),
		liveSucc: make([]float64, secs), liveThr: make([]float64, secs), peerSucc: make([][]float64, fc.peers)}
	second := func(t time.Time) int { return int(t.Sub(t0) / time.Second) }

	// call sends one request for a peer (or the live client, peer -1); done gets the answer.
	call := func(live bool, peer int, done func(throttled bool)) {
		s.at(s.clock.Now().Add(time.Millisecond+time.Duration(rng.Float64()*float64(9*time.Millisecond))), func() {
			sec := second(s.clock.Now())
			if !bucket.Allow() {
				if sec < secs {
					res.thr[sec]++
					if live {
						res.liveThr[sec]++
					}
				}
				s.at(s.clock.Now().Add(2*time.Millisecond), func() { done(true) })
				return
			}
			lat := 80*time.Millisecond + time.Duration(rng.Float64()*40*float64(time.Millisecond))
			s.at(s.clock.Now().Add(lat), func() {
				if sec := second(s.clock.Now()); sec < secs {
					res.succ[sec]++
					if live {
						res.liveSucc[sec]++
					} else {
						res.peerSucc[peer][sec]++
					}
				}
				done(false)
			})
		})
	}

	peers := make([]*simPeer, fc.peers)
	for pi := range fc.peers {
		res.peerSucc[pi] = make([]float64, secs)
		p := &simPeer{s: s, recheck: time.Second, bucket: rate.NewLimiter(rate.Limit(fc.ceiling), 1),
			l: pacing.NewLimiter(pacing.LimiterConfig{Rate: fc.ceiling, Burst: 1, Adaptive: true, Reserve: fc.reserve,
				Seed: fc.seed*1000 + uint64(pi) + 1, Clock: s.clock})}
		peers[pi] = p
		var work func(attempt int)
		work = func(attempt int) {
			p.wait(func(start time.Time) {
				call(false, pi, func(throttled bool) {
					p.l.Observe(start, throttled)
					switch {
					case p.stopped:
					case !throttled || attempt >= pacing.AttemptsDefault:
						work(1)
					default:
						d := min(pacing.BackoffBaseDefault<<(attempt-1), pacing.BackoffMaxDefault)
						d = time.Duration(float64(d) * (0.5 + rng.Float64()/2))
						s.at(s.clock.Now().Add(d), func() { work(attempt + 1) })
					}
				})
			})
		}
		spread := cmp.Or(fc.spread, 50*time.Millisecond)
		startAt := t0.Add(time.Duration(rng.Float64() * float64(spread))) // processes start apart
		for range fc.workers {
			s.at(startAt, func() { work(1) })
		}
	}
	res.rates = make([][]float64, fc.peers)
	var sample func()
	sample = func() {
		for pi, p := range peers {
			res.rates[pi] = append(res.rates[pi], p.l.Rate())
		}
		s.at(s.clock.Now().Add(time.Second), sample)
	}
	s.at(t0.Add(time.Second), sample)
	if fc.freeAt > 0 {
		s.at(t0.Add(fc.freeAt), func() { // the peer at the median rate survives
			byRate := slices.Clone(peers)
			slices.SortFunc(byRate, func(a, b *simPeer) int { return cmp.Compare(a.l.Rate(), b.l.Rate()) })
			for _, p := range byRate {
				p.stopped = p != byRate[len(byRate)/2]
			}
			res.survivor = slices.Index(peers, byRate[len(byRate)/2])
		})
	}
	if fc.live > 0 {
		ls := fc.liveSeed
		if ls == 0 {
			ls = int64(fc.seed) + 99
		}
		arr := quotasim.NewArrivals(fc.live, ls)
		var arrive func()
		arrive = func() {
			call(true, -1, func(bool) {})
			s.at(s.clock.Now().Add(arr.Next()), arrive)
		}
		s.at(t0.Add(time.Duration(rng.Float64()*float64(200*time.Millisecond))+arr.Next()), arrive)
	}
	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(simEvent)
		if e.at.After(end) {
			break
		}
		s.clock.Advance(e.at.Sub(s.clock.Now()))
		e.fn()
	}

	w := int(fc.warm / time.Second)
	res.minShare = math.Inf(1)
	for pi, p := range peers {
		share := over(res.peerSucc[pi], w, secs) / float64(secs-w)
		res.minShare, res.maxShare = min(res.minShare, share), max(res.maxShare, share)
		res.finalRates = append(res.finalRates, p.l.Rate())
	}
	return res
}

const simSeeds = 5

// The fleet lines, simulated: 1, 4, 16 and 64 peers each told the whole quota
// (and one told 5 × it), 5 seeds each. Converged: after 15 s the throttled fraction is
// bounded and the quota used, and the last 15 s are within the bound's noise (the fleet
// settled rather than drifting through the window).
func TestFleetConverges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		fc             fleetCase
		maxThr, minUtl float64
	}{
		{"1 peer --rate Q", fleetCase{peers: 1, workers: 8, ceiling: simQ}, 0.01, 0.97},
		{"1 peer --rate 5Q", fleetCase{peers: 1, workers: 8, ceiling: 5 * simQ}, 0.02, 0.95},
		{"4 peers", fleetCase{peers: 4, workers: 8, ceiling: simQ}, 0.03, 0.95},
		{"16 peers", fleetCase{peers: 16, workers: 8, ceiling: simQ}, 0.03, 0.90},
		{"64 peers, 2 workers", fleetCase{peers: 64, workers: 2, ceiling: simQ}, 0.05, 0.85},
		// Processes started one after another (a loaded machine, a KEDA scale-up): the
		// late ones join an empty bucket at --rate.
		{"16 peers started over 3 s", fleetCase{peers: 16, workers: 8, ceiling: simQ, spread: 3 * time.Second}, 0.03, 0.90},
		{"64 peers, 2 workers, started over 3 s", fleetCase{peers: 64, workers: 2, ceiling: simQ, spread: 3 * time.Second}, 0.05, 0.85},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lines []string
			for seed := uint64(1); seed <= simSeeds; seed++ {
				fc := tc.fc
				fc.dur, fc.warm, fc.seed = 60*time.Second, 15*time.Second, seed
				r := simulateFleet(fc)
				thr, util := r.thrFrac(15, 60), r.util(15, 60)
				lines = append(lines, fmt.Sprintf("throttled %.2f %%, util %.3f, shares %.2f-%.2f/s",
					100*thr, util, r.minShare, r.maxShare))
				require.LessOrEqual(t, thr, tc.maxThr, "seed %d: throttled fraction after 15 s", seed)
				require.GreaterOrEqual(t, util, tc.minUtl, "seed %d: utilisation after 15 s", seed)
				// A third of the window counts a third of the throttles: allow its noise.
				require.LessOrEqual(t, r.thrFrac(45, 60), 1.5*tc.maxThr, "seed %d: throttled fraction in the last 15 s", seed)
				require.GreaterOrEqual(t, r.util(45, 60), tc.minUtl, "seed %d: utilisation in the last 15 s", seed)
				for _, rt := range r.finalRates {
					require.LessOrEqual(t, rt, fc.ceiling, "seed %d: a rate above the ceiling", seed)
				}
			}
			slices.Sort(lines)
			t.Logf("%s, %d seeds: %s", tc.name, simSeeds, strings.Join(lines, "; "))
		})
	}
}

// The live application (Poisson, 25 % of Q) beside one campaign --rate Q --reserve 10 %
// of Q: the live client is (almost) never throttled and the campaign gets the rest. 40
// seeds, each with its own arrivals: where the campaign's first limit lands decides
// whether the live client pays until the next cut, and 5 seeds did not show it.
func TestFleetReserveLeavesRoomForLiveTraffic(t *testing.T) {
	t.Parallel()
	const seeds = 40
	live, reserve := 0.25*simQ, 0.1*simQ
	worstLive, minCamp, maxCamp := 0.0, math.Inf(1), 0.0
	for seed := uint64(1); seed <= seeds; seed++ {
		r := simulateFleet(fleetCase{peers: 1, workers: 8, ceiling: simQ, live: live, reserve: reserve,
			dur: 60 * time.Second, warm: 15 * time.Second, seed: seed, liveSeed: int64(seed) + 1000})
		lt, camp := r.liveThrFrac(15, 60), r.campaign(15, 60)
		worstLive, minCamp, maxCamp = max(worstLive, lt), min(minCamp, camp), max(maxCamp, camp)
		require.LessOrEqual(t, lt, 0.005, "seed %d: live client's throttled share", seed)
		require.GreaterOrEqual(t, camp, 0.85*(simQ-live-reserve), "seed %d: campaign rate", seed)
		require.LessOrEqual(t, camp, simQ-live, "seed %d: the campaign leaves the live client its share", seed)
	}
	t.Logf("reserve, %d seeds: live throttled at most %.2f %%, campaign %.2f-%.2f/s", seeds, 100*worstLive, minCamp, maxCamp)

	// Without --reserve the same campaign keeps the bucket empty and the live client pays.
	r := simulateFleet(fleetCase{peers: 1, workers: 8, ceiling: simQ, live: live,
		dur: 60 * time.Second, warm: 15 * time.Second, seed: 1})
	t.Logf("no reserve: live throttled %.2f %%, campaign %.2f/s", 100*r.liveThrFrac(15, 60), r.campaign(15, 60))
	require.Greater(t, r.liveThrFrac(15, 60), 0.005, "the reserve is what protects the live client")
}

// Freed capacity is taken up, slowly: 16 peers converge, then 15 stop at 30 s. The
// survivor grows by its own successes only (≈ 0.33 % each), so from a ~1/s share it
// takes minutes to reach the quota — the price of a fraction that holds at any fleet
// size; a fleet budget (Limiter.SetCeiling) is what moves it at once. Its rate never
// falls and it throttles nobody on the way.
func TestFleetSurvivorTakesUpFreedCapacitySlowly(t *testing.T) {
	t.Parallel()
	r := simulateFleet(fleetCase{peers: 16, workers: 8, ceiling: simQ, dur: 150 * time.Second,
		warm: 15 * time.Second, freeAt: 30 * time.Second, seed: 3})
	rates := r.rates[r.survivor]
	at30, end := rates[30], rates[len(rates)-1]
	t.Logf("survivor's rate: %.2f/s when the others stopped, %.2f/s 2 min later", at30, end)
	for sec := 31; sec < len(rates); sec++ {
		require.GreaterOrEqual(t, rates[sec], rates[sec-1], "second %d: the survivor's rate fell", sec)
	}
	// Growing α = ln(1/0.85) × 0.02/0.98 ≈ 0.33 % a success at r successes/s:
	// dr/dt = α r², so 1/r falls by α a second.
	alpha := math.Log(1/0.85) * 0.02 / 0.98
	model := 1 / (1/at30 - alpha*float64(len(rates)-1-30))
	require.InEpsilon(t, model, end, 0.25, "it grows by its successes: %.2f/s expected", model)
	require.Zero(t, over(r.thr, 32, r.secs), "no throttle once alone under the quota")
}
