package pacing_test

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// ---- unit behaviour ----

// attempt reports an attempt that started lat ago.
func attempt(c *pacing.RateControl, clock *clockwork.FakeClock, lat time.Duration, throttled bool) {
	c.Observe(clock.Now().Add(-lat), throttled)
}

func TestRateControlStartsAtCeilingAndKeepsBounds(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := pacing.NewRateControl(pacing.RateControlConfig{Ceiling: 20, Seed: 1, Clock: clock})
	require.Equal(t, 20.0, c.Rate())
	for range 1000 {
		clock.Advance(10 * time.Millisecond)
		attempt(c, clock, 100*time.Millisecond, false)
	}
	require.Equal(t, 20.0, c.Rate(), "successes never lift it above the ceiling")
	for range 100 {
		clock.Advance(time.Second) // past the cooldown each time
		attempt(c, clock, 2*time.Millisecond, true)
	}
	require.Less(t, c.Rate(), pacing.RateControlFloorDefault, "at the floor, and a starved peer's floor backs off")
	require.Greater(t, c.Rate(), 0.0)

	tiny := pacing.NewRateControl(pacing.RateControlConfig{Ceiling: 0.01, Clock: clock})
	clock.Advance(time.Second)
	attempt(tiny, clock, 0, true)
	require.LessOrEqual(t, tiny.Rate(), 0.01, "the floor is clamped to the ceiling")
}

// A rate the peer uses grows when nothing is throttled, and falls when many are.
func TestRateControlSteersByTheThrottledFraction(t *testing.T) {
	t.Parallel()
	run := func(throttleEvery int) (start, end float64) {
		clock := newFakeClock()
		c := pacing.NewRateControl(pacing.RateControlConfig{Ceiling: 200, Seed: 3, Clock: clock})
		clock.Advance(time.Second)
		attempt(c, clock, 0, true) // start below the ceiling
		start = c.Rate()
		for i := 1; i <= 6000; i++ { // about 30 s at its rate
			clock.Advance(time.Duration(float64(time.Second) / c.Rate())) // paced at its rate
			attempt(c, clock, 0, throttleEvery > 0 && i%throttleEvery == 0)
		}
		return start, c.Rate()
	}
	start, end := run(0)
	require.Less(t, start, 190.0)
	require.Equal(t, 200.0, end, "no throttles: it grows back to the ceiling")
	start, end = run(10)
	require.Less(t, end, start/2, "10 % throttled: it falls")
}

func TestRateControlIgnoresAttemptsStartedBeforeACut(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := pacing.NewRateControl(pacing.RateControlConfig{Ceiling: 100, Seed: 1, Clock: clock})
	inFlight := clock.Now()
	clock.Advance(50 * time.Millisecond)
	attempt(c, clock, time.Millisecond, true)
	first := c.Rate()
	require.InDelta(t, 85, first, 9, "one cut: × 0.85, jittered ± 10 %")
	for range 7 { // the rest of a burst that was in flight at the old rate
		c.Observe(inFlight, true)
	}
	clock.Advance(100 * time.Millisecond)
	attempt(c, clock, time.Millisecond, true) // within the cooldown: the bucket was still empty
	require.Equal(t, first, c.Rate(), "no second cut for the same empty bucket")
	require.EqualValues(t, 1, c.Cuts())
	clock.Advance(time.Second)
	attempt(c, clock, time.Millisecond, true)
	require.Less(t, c.Rate(), first)
	require.EqualValues(t, 2, c.Cuts())
}

// Mostly throttled: one cut to Margin × what got through, not a chain of × Cut steps.
func TestRateControlDeepCutLandsUnderTheShare(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := pacing.NewRateControl(pacing.RateControlConfig{Ceiling: 100, Cut: 0.99, Seed: 1, Clock: clock})
	// 100 attempts/s for 2 s, 1 in 5 admitted (a 20/s share); answers 100 ms later.
	for i := range 200 {
		clock.Advance(10 * time.Millisecond)
		attempt(c, clock, 100*time.Millisecond, i%5 != 4)
	}
	require.InDelta(t, 0.95*20, c.Rate(), 0.1*19+1, "cut to 0.95 × the admitted rate, jittered")
}

func TestRateControlReserveStaysBelowTheThrottlingRate(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := pacing.NewRateControl(pacing.RateControlConfig{Ceiling: 20, Reserve: 2, Seed: 1, Clock: clock})
	attempt(c, clock, 0, true) // throttled at 20
	for range 2000 {
		clock.Advance(time.Millisecond)
		attempt(c, clock, 0, false)
	}
	require.InDelta(t, 20*math.Exp(0.001*2)-2, c.Rate(), 0.01, "2 below the throttling rate, creeping up by 0.1 %/s")
	clock.Advance(2 * time.Minute) // the bound creeps above the ceiling
	for range 2000 {
		clock.Advance(time.Millisecond)
		attempt(c, clock, 0, false)
	}
	require.Equal(t, 20.0, c.Rate())
}

// ---- fleets on one token bucket, simulated ----

// fleetCase is N peers of `workers` workers, each --rate ceiling, on one bucket of rate
// q and burst q; calls take 100 ± 20 ms when admitted and 2 ms when throttled; a
// throttled user is retried with the resender's backoff (200 ms doubling with jitter,
// at most 8 attempts). Optionally a live client with Poisson arrivals shares the bucket.
type fleetCase struct {
	peers, workers int
	ceiling        float64
	live           float64 // live client's mean rate (0 = none)
	reserve        float64
	dur, warm      time.Duration
	seed           uint64
}

type fleetResult struct {
	thrFrac, util      float64 // over [warm, dur): throttled ÷ answered, successes/s ÷ q
	liveThr            float64 // live client's throttled share over the same seconds
	campaign           float64 // successes/s of the peers (without the live client)
	minShare, maxShare float64 // the peers' successes/s
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

func simulateFleet(fc fleetCase) fleetResult {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	t0 := clock.Now()
	bucket := quotasim.NewBucket(clock, simQ, int(simQ))
	rng := rand.New(rand.NewPCG(fc.seed, 7))
	var q eventQueue
	var seq int64
	at := func(t time.Time, fn func()) {
		seq++
		heap.Push(&q, simEvent{t, seq, fn})
	}
	end := t0.Add(fc.dur)
	secs := int(fc.dur / time.Second)
	succ, thr := make([]float64, secs), make([]float64, secs)
	liveSucc, liveThr := make([]float64, secs), make([]float64, secs)
	peerSucc := make([][]float64, fc.peers)
	second := func(t time.Time) int { return int(t.Sub(t0) / time.Second) }
	var arrive func(t time.Time, live bool, peer int, done func(throttled bool))

	// A call reaches the bucket 1-10 ms after it starts (loopback, scheduling): without
	// that jitter a peer paced at exactly Q would own every token forever.
	call := func(t time.Time, live bool, peer int, done func(throttled bool)) {
		at(t.Add(time.Millisecond+time.Duration(rng.Float64()*float64(9*time.Millisecond))), func() { arrive(clock.Now(), live, peer, done) })
	}
	arrive = func(t time.Time, live bool, peer int, done func(throttled bool)) {
		s := second(t)
		if !bucket.Allow() {
			if s < secs {
				thr[s]++
				if live {
					liveThr[s]++
				}
			}
			at(t.Add(2*time.Millisecond), func() { done(true) })
			return
		}
		lat := 80*time.Millisecond + time.Duration(rng.Float64()*40*float64(time.Millisecond))
		at(t.Add(lat), func() {
			if s2 := second(clock.Now()); s2 < secs {
				succ[s2]++
				if live {
					liveSucc[s2]++
				} else {
					peerSucc[peer][s2]++
				}
			}
			done(false)
		})
	}

	for p := range fc.peers {
		peerSucc[p] = make([]float64, secs)
		ctl := pacing.NewRateControl(pacing.RateControlConfig{Ceiling: fc.ceiling, Reserve: fc.reserve,
			Seed: fc.seed*1000 + uint64(p) + 1, Clock: clock})
		next := t0.Add(time.Duration(rng.Float64() * float64(50*time.Millisecond))) // processes start apart
		var work func(attempt int)
		work = func(attempt int) {
			// The pacer: burst 1 at the controller's current rate.
			start := next
			if start.Before(clock.Now()) {
				start = clock.Now()
			}
			next = start.Add(time.Duration(float64(time.Second) / ctl.Rate()))
			at(start, func() {
				call(clock.Now(), false, p, func(throttled bool) {
					ctl.Observe(start, throttled)
					switch {
					case !throttled || attempt >= 8:
						work(1)
					default:
						d := 200 * time.Millisecond << (attempt - 1)
						d = min(d, 20*time.Second)
						d = time.Duration(float64(d) * (0.5 + rng.Float64()/2))
						at(clock.Now().Add(d), func() { work(attempt + 1) })
					}
				})
			})
		}
		for range fc.workers {
			at(clock.Now(), func() { work(1) })
		}
	}
	if fc.live > 0 {
		arr := quotasim.NewArrivals(fc.live, int64(fc.seed)+99)
		var arrive func()
		arrive = func() {
			call(clock.Now(), true, -1, func(bool) {})
			at(clock.Now().Add(arr.Next()), arrive)
		}
		at(t0.Add(arr.Next()), arrive)
	}
	for q.Len() > 0 {
		e := heap.Pop(&q).(simEvent)
		if e.at.After(end) {
			break
		}
		clock.Advance(e.at.Sub(clock.Now()))
		e.fn()
	}

	w := int(fc.warm / time.Second)
	var s, th, ls, lt float64
	for i := w; i < secs; i++ {
		s += succ[i]
		th += thr[i]
		ls += liveSucc[i]
		lt += liveThr[i]
	}
	n := float64(secs - w)
	res := fleetResult{thrFrac: th / (s + th), util: s / n / simQ, campaign: (s - ls) / n, minShare: math.Inf(1)}
	if ls+lt > 0 {
		res.liveThr = lt / (ls + lt)
	}
	for p := range fc.peers {
		var ps float64
		for i := w; i < secs; i++ {
			ps += peerSucc[p][i]
		}
		res.minShare = min(res.minShare, ps/n)
		res.maxShare = max(res.maxShare, ps/n)
	}
	return res
}

// The fleet lines, simulated: 1, 4, 16 and 64 peers each told the whole quota.
// Judged like make bench: after 15 s, throttled ÷ answered and successes ÷ Q.
func TestRateControlFleetConverges(t *testing.T) {
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lines []string
			var rs []fleetResult
			for seed := uint64(1); seed <= 5; seed++ {
				fc := tc.fc
				fc.dur, fc.warm, fc.seed = 60*time.Second, 15*time.Second, seed
				r := simulateFleet(fc)
				rs = append(rs, r)
				lines = append(lines, fmt.Sprintf("throttled %.2f %%, util %.3f, shares %.2f-%.2f/s", 100*r.thrFrac, r.util, r.minShare, r.maxShare))
			}
			sort.Strings(lines)
			t.Logf("%s, 5 seeds: %s", tc.name, strings.Join(lines, "; "))
			for i, r := range rs {
				require.LessOrEqual(t, r.thrFrac, tc.maxThr, "seed %d: throttled fraction", i+1)
				require.GreaterOrEqual(t, r.util, tc.minUtl, "seed %d: utilisation", i+1)
			}
		})
	}
}

// The live application (Poisson, 25 % of Q) beside one campaign --rate Q --reserve 10 % of Q.
func TestRateControlReserveLeavesRoomForLiveTraffic(t *testing.T) {
	t.Parallel()
	var lines []string
	var rs []fleetResult
	for seed := uint64(1); seed <= 5; seed++ {
		r := simulateFleet(fleetCase{peers: 1, workers: 8, ceiling: simQ, live: 0.25 * simQ, reserve: 0.1 * simQ,
			dur: 60 * time.Second, warm: 15 * time.Second, seed: seed})
		rs = append(rs, r)
		lines = append(lines, fmt.Sprintf("live throttled %.2f %%, campaign %.2f/s", 100*r.liveThr, r.campaign))
	}
	t.Logf("reserve, 5 seeds: %s", strings.Join(lines, "; "))
	for i, r := range rs {
		require.LessOrEqual(t, r.liveThr, 0.005, "seed %d: live client's throttled share", i+1)
		require.GreaterOrEqual(t, r.campaign, 0.85*(simQ-0.25*simQ-0.1*simQ), "seed %d: campaign rate", i+1)
	}
}
