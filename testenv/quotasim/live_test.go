package quotasim

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestArrivalsArePoisson(t *testing.T) {
	t.Parallel()
	const rate, n = 5.0, 200_000
	a, b := NewArrivals(rate, 42), NewArrivals(rate, 42)
	var sum, sumSq float64
	below := 0
	for range n {
		g := a.Next()
		require.Equal(t, g, b.Next(), "same seed, same gaps")
		s := g.Seconds()
		sum += s
		sumSq += s * s
		if s < 1/rate {
			below++
		}
	}
	mean := sum / n
	sd := math.Sqrt(sumSq/n - mean*mean)
	require.InDelta(t, 1/rate, mean, 0.01/rate, "mean gap 1/rate")
	require.InDelta(t, 1.0, sd/mean, 0.02, "exponential: standard deviation = mean (a smooth rate has 0)")
	require.InDelta(t, 1-math.Exp(-1), float64(below)/n, 0.005, "P(gap < mean) = 1 - 1/e")
	require.NotEqual(t, NewArrivals(rate, 1).Next(), NewArrivals(rate, 2).Next())
}

func testLiveConfig(t *testing.T, cfg LiveConfig) LiveConfig {
	t.Helper()
	require.NoError(t, cfg.defaults())
	return cfg
}

func TestLiveFollowsTheSeededSchedule(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	start := clk.Now()
	cfg := testLiveConfig(t, LiveConfig{URL: "http://127.0.0.1:1", Rate: 5, Seed: 7, Duration: 10 * time.Second, Clock: clk})
	calls := make(chan time.Time)
	l := startLive(context.Background(), cfg, func(_ context.Context, seq int64) liveOutcome {
		calls <- clk.Now()
		if seq%4 == 0 {
			return liveThrottled
		}
		return liveSuccess
	})

	var want []time.Duration
	arr := NewArrivals(5, 7)
	for at := arr.Next(); at <= 10*time.Second; at += arr.Next() {
		want = append(want, at)
	}
	require.InDelta(t, 50, len(want), 20, "about rate × duration arrivals")
	for i, w := range want {
		require.True(t, clk.FireNext(l.Done()), "arrival %d", i)
		require.Equal(t, start.Add(w), <-calls, "arrival %d at its scheduled time", i)
	}
	<-l.Done() // the next arrival is past Duration: no timer, the loop ends
	st := l.Stop()
	n := int64(len(want))
	require.Equal(t, LiveStats{Arrivals: n, Calls: n, Successes: n - n/4, Throttled: n / 4}, st)
	require.InDelta(t, 0.25, st.ThrottledShare(), 0.03)
}

func TestLiveBoundedByMaxCallsAndDropsBeyondMaxInFlight(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	cfg := testLiveConfig(t, LiveConfig{URL: "http://127.0.0.1:1", Rate: 100, Duration: time.Hour, MaxCalls: 3,
		MaxInFlight: 1, Clock: clk})
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	l := startLive(context.Background(), cfg, func(context.Context, int64) liveOutcome {
		started <- struct{}{}
		<-release
		return liveSuccess
	})
	require.True(t, clk.FireNext(l.Done()))
	<-started // the first call holds the only slot
	require.True(t, clk.FireNext(l.Done()))
	require.True(t, clk.FireNext(l.Done()))
	<-l.Done() // MaxCalls arrivals: done although Duration is an hour
	require.Equal(t, LiveStats{Arrivals: 3, Calls: 1, Dropped: 2}, l.Stats())
	close(release)
	require.Equal(t, LiveStats{Arrivals: 3, Calls: 1, Successes: 1, Dropped: 2}, l.Stop())
}

func TestLiveStopEndsTheArrivals(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	cfg := testLiveConfig(t, LiveConfig{URL: "http://127.0.0.1:1", Rate: 1, Duration: time.Hour, Clock: clk})
	l := startLive(context.Background(), cfg, func(context.Context, int64) liveOutcome { return liveSuccess })
	<-clk.armed // waiting for its first arrival
	require.Equal(t, LiveStats{}, l.Stop())
}

func TestLiveConfigRefusesUnbounded(t *testing.T) {
	t.Parallel()
	for _, c := range []LiveConfig{
		{URL: "http://127.0.0.1:1", Rate: 0, Duration: time.Second},
		{URL: "http://127.0.0.1:1", Rate: math.Inf(1), Duration: time.Second},
		{URL: "http://127.0.0.1:1", Rate: 1},
		{URL: "http://127.0.0.1:1", Rate: 1, Duration: time.Second, MaxCalls: -1},
	} {
		_, err := StartLive(context.Background(), c)
		require.Error(t, err, "%+v", c)
	}
	_, err := StartLive(context.Background(), LiveConfig{URL: "http://192.0.2.1:80", Rate: 1, Duration: time.Second})
	require.ErrorContains(t, err, "loopback")
	c := LiveConfig{Rate: 2.5, Duration: 10 * time.Second}
	require.NoError(t, c.defaults())
	require.EqualValues(t, 150, c.MaxCalls, "2 × rate × duration + 100")
	require.EqualValues(t, LiveDefaultSeed, c.Seed)
	require.Equal(t, LiveClient, c.Client)
}

// Against a real simulator: the live client's calls go through the SDK, share the
// bucket, and are counted under its own name. The bucket's clock is frozen, so after
// the burst every call is throttled whatever the timing.
func TestLiveSharesTheBucketAsItsOwnClient(t *testing.T) {
	t.Parallel()
	sim, srv := newSimServer(t, Config{Rate: 1, Burst: 3, Clock: newFakeClock()})
	resend(t, srv.Client(), srv.URL, "campaign-user") // someone else takes a token first
	l, err := StartLive(context.Background(), LiveConfig{URL: srv.URL, Rate: 2000, Duration: 10 * time.Second, MaxCalls: 20})
	require.NoError(t, err)
	<-l.Done()
	got := l.Stop()
	require.Equal(t, LiveStats{Arrivals: 20, Calls: 20, Successes: 2, Throttled: 18}, got)

	st := sim.Stats()
	live := st.PerClient[LiveClient]
	require.Equal(t, int64(20), live.Calls)
	require.Equal(t, int64(2), live.Admitted)
	require.Equal(t, int64(2), live.Successes)
	require.Equal(t, int64(18), live.Throttled)
	require.EqualValues(t, 1, st.PerClient[DefaultClient].Successes)
	for i := 1; i <= 20; i++ {
		require.EqualValues(t, 1, st.PerUser["live-"+strconv.Itoa(i)].Calls, "one username per call")
	}
}
