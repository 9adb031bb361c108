package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// With the quota (Q) below --rate, the adaptive limiter finds it: every user still
// ends sent, and after a warm-up throttles stay within a few percent.
func TestAdaptiveRateFindsQuota(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	const q, n = 40, 560 // ~14 s at the quota
	sim := quotasim.StartT(t, quotasim.Config{Rate: q, Burst: q, LatencyFixed: 20 * time.Millisecond, Seed: 5})
	dir := t.TempDir()
	csvPath, users := writeUsersCSV(t, dir, n)
	res := runBin(t, dir, append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c"), "", "run", "--csv", csvPath,
		"--report", "r.csv", "--rate", "200", "--workers", "16", "--log-level", "warn")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, 0, checkCampaign(t, filepath.Join(dir, "r.csv"), sim, users))
	st := sim.Sim.Stats()
	require.Equal(t, int64(n), st.Successes, "every user sent exactly once")
	ok, thr, measured := st.RatesAfter(6 * time.Second)
	require.True(t, measured)
	t.Logf("after 6 s: %.1f sent/s (Q=%d), %.1f throttled/s; whole run %d throttled of %d calls",
		ok, q, thr, st.Throttled, st.Calls)
	require.LessOrEqual(t, thr/(ok+thr), 0.05, "throttled share after warm-up")
	require.GreaterOrEqual(t, ok/q, 0.85, "quota used after warm-up")
}

// --reserve: once throttled, the campaign stays at least R below the rate throttling
// came at, so the quota keeps R free for the rest of the account: after the warm-up it
// runs below Q − R and is (almost) never throttled, where without the reserve it uses
// the whole quota. --rate is 2 × Q, so the first throttle (the burst draining) notes a
// limit above the quota, and the next, taken no sooner than 5 s later, sets the real one:
// the campaign is judged after 15 s (as docs/fleet.md says), over a run of ~40 s.
func TestReserveLeavesQuotaFree(t *testing.T) {
	// Not parallel: the rate a process reaches in its first seconds sets where --reserve
	// takes hold, and the package's other process tests competing for the 2 cores moved it
	// past the bound (41.0/s with the whole suite running, 28–34/s alone).
	needIntegration(t)
	const q, n, reserve = 40, 1200, 12
	sim := quotasim.StartT(t, quotasim.Config{Rate: q, Burst: q, LatencyFixed: 20 * time.Millisecond, Seed: 6})
	dir := t.TempDir()
	csvPath, users := writeUsersCSV(t, dir, n)
	res := runBin(t, dir, append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c", "COGNITO_RESEND_RESERVE=12"), "", "run", "--csv", csvPath,
		"--report", "r.csv", "--rate", "80", "--workers", "16", "--log-level", "warn")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, 0, checkCampaign(t, filepath.Join(dir, "r.csv"), sim, users))
	st := sim.Sim.Stats()
	ok, thr, measured := st.RatesAfter(15 * time.Second)
	require.True(t, measured)
	t.Logf("after 15 s: %.1f sent/s (Q=%d, reserve %d), %.2f throttled/s; %s", ok, q, reserve, thr, res.stderr)
	// R below the rate throttling came at, and that rate overshoots Q (the rate grows
	// past it until a throttle): measured 28.1–33.4/s in eight runs, then 31.6–37.5/s in
	// this round's CI runs (docs/fleet.md: the spread is not explained yet), so this only
	// holds the campaign below Q after its first 15 s; without --reserve it runs at ≈ Q
	// and is throttled (the assertion below).
	require.LessOrEqual(t, ok, float64(q), "the campaign stays below the quota")
	require.GreaterOrEqual(t, ok, 0.6*(q-reserve), "and still uses most of the rest")
	require.LessOrEqual(t, thr/(ok+thr), 0.01, "below the quota by the reserve, nothing is throttled")
}

// The campaign stops within 1 s of the first systemic error.
func TestSystemicErrorStopsWithinOneSecond(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 10 * time.Millisecond,
		Inject: map[string]quotasim.InjectedError{"user-00300": {Type: "NotAuthorizedException",
			Message: "Client 1example is configured with secret but SECRET_HASH was not received"}}})
	dir := t.TempDir()
	csvPath, _ := writeUsersCSV(t, dir, 3000)
	cmd := exec.Command(binPath, "run", "--csv", csvPath, "--report", "r.csv", "--rate", "400", "--workers", "8")
	cmd.Dir, cmd.Env = dir, append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan time.Time, 1)
	go func() { _ = cmd.Wait(); exited <- time.Now() }()

	var hit time.Time
	var callsAtHit int64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if st := sim.Sim.Stats(); st.InjectedByType["NotAuthorizedException"] > 0 {
			hit, callsAtHit = time.Now(), st.Calls
			break
		}
		time.Sleep(time.Millisecond) // polling another process through the simulator
	}
	require.False(t, hit.IsZero(), "the systemic error was never reached")
	var end time.Time
	select {
	case end = <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after a systemic error")
	}
	require.Less(t, end.Sub(hit), time.Second, "stopped %s after the systemic error", end.Sub(hit))
	require.Equal(t, 3, cmd.ProcessState.ExitCode(), stderr.String())
	require.Contains(t, stderr.String(), "COGNITO_CLIENT_SECRET", "the fix is printed")
	require.LessOrEqual(t, sim.Sim.Stats().Calls-callsAtHit, int64(8), "at most the calls already in flight")
}

// Sustained 5xx: the breaker pauses the whole pool instead of letting every job burn its
// retries, so an outage shorter than the breaker's patience fails nobody. /metrics shows
// the breaker open during the outage and closed after it. (Users come on a stdin left
// open, so the process still serves /metrics once they are all sent.)
func TestBreakerRidesOutOutage(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{P5xx: 1, Seed: 9})
	dir := t.TempDir()
	csvPath, users := writeUsersCSV(t, dir, 100)
	input, err := os.ReadFile(csvPath)
	require.NoError(t, err)
	cmd := exec.Command(binPath, "run", "--csv", "-", "--report", "r.csv", "--rate", "200",
		"--workers", "8", "--max-attempts", "4", "--backoff-base", "50ms", "--backoff-max", "200ms",
		"--metrics-addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Dir, cmd.Env = dir, append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	_, err = stdin.Write(input)
	require.NoError(t, err)
	outage := time.Now()
	metric := scrapeMetrics(t, &stderr)
	require.Eventually(t, func() bool { return metric("cognito_resend_breaker_open") == "1" }, 20*time.Second,
		5*time.Millisecond, "the breaker is open during the outage\n%s", stderr.String())
	time.Sleep(time.Until(outage.Add(2500 * time.Millisecond))) // the outage lasts 2.5 s (wall time of the scenario)
	require.NoError(t, sim.Sim.SetConfig(quotasim.Config{Seed: 9}))
	faults := sim.Sim.Stats().Faults.Total()
	require.Eventually(t, func() bool { return metric(`cognito_resend_jobs_total{status="sent"}`) == "100" }, 60*time.Second,
		10*time.Millisecond, stderr.String())
	require.Equal(t, "0", metric("cognito_resend_breaker_open"), "a success closed it")
	trips, err := strconv.Atoi(metric("cognito_resend_breaker_trips_total"))
	require.NoError(t, err)
	require.Positive(t, trips)
	require.NoError(t, stdin.Close())
	require.NoError(t, cmd.Wait(), stderr.String())
	require.Equal(t, 0, checkCampaign(t, filepath.Join(dir, "r.csv"), sim, users), "every user sent, none failed")
	// Without the pause, 8 workers × 4 attempts at 50-200 ms backoff would have made
	// ~100 calls in 2.5 s and failed the jobs in flight.
	require.LessOrEqual(t, faults, int64(40), "calls burned during the outage")
	t.Logf("outage: %d failed calls in 2.5 s, %d breaker trips", faults, trips)
}

// scrapeMetrics waits for the process to say where /metrics listens (JSON logs on
// stderr) and returns a reader of one series' value ("" when absent).
func scrapeMetrics(t *testing.T, stderr *lockedBuffer) func(series string) string {
	t.Helper()
	var addr []string
	require.Eventually(t, func() bool {
		addr = regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`).FindStringSubmatch(stderr.String())
		return len(addr) == 2
	}, 30*time.Second, 10*time.Millisecond, stderr.String())
	return func(series string) string {
		resp, err := http.Get("http://" + addr[1] + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(string(b))
		if m == nil {
			return ""
		}
		return m[1]
	}
}
