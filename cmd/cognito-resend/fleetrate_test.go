package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Coordinated mode (issue 11) as an operator runs it: three replicas of the built binary
// with --fleet-rate on one ledger table (dynalite), their /metrics read as Prometheus
// would. One is killed with SIGKILL (no goodbye: its record must expire), one stopped
// with SIGTERM (its record is deleted at once); the survivors' shares rise, within the
// bounds the heartbeat sets, and the fleet's calls at the simulator stay at the fleet
// rate, not replicas × --rate.

const (
	fleetRate      = 24.0
	fleetRateUsers = 1500 // per replica: more than the run can send
)

type rateReplica struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	metric func(series string) string
}

// gauge is the fleet gauge name of the default fleet.
func (r *rateReplica) gauge(t *testing.T, name string) float64 {
	t.Helper()
	v := r.metric(name + `{fleet="default"}`)
	if v == "" {
		return -1
	}
	f, err := strconv.ParseFloat(v, 64)
	require.NoError(t, err, "%s = %q", name, v)
	return f
}

func TestFleetRateSplitsAndSurvivesAKill(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	// A quota well above the fleet rate: what the replicas send is their shares, not
	// the quota's answer.
	sim := quotasim.StartT(t, quotasim.Config{Rate: 200, Burst: 200, LatencyFixed: 20 * time.Millisecond, Seed: 5})
	env := ledgerEnv(sim.URL, dynamo)
	dir := t.TempDir()

	start := func(i int) *rateReplica {
		csv := writeUsers(t, dir, fmt.Sprintf("users-%d.csv", i), userRange(i*fleetRateUsers, (i+1)*fleetRateUsers))
		r := &rateReplica{stderr: &lockedBuffer{}}
		// --rate 24 each would be 72/s for three: --fleet-rate replaces it (with a WARN).
		r.cmd = exec.Command(binPath, "run", "--csv", csv, "--report", filepath.Join(dir, fmt.Sprintf("r%d.csv", i)),
			"--ledger-table", "ledger", "--fleet-rate", strconv.FormatFloat(fleetRate, 'f', -1, 64), "--fleet-name", "default", "--rate", "24",
			"--workers", "4", "--metrics-addr", "127.0.0.1:0", "--log-format", "json", "--progress", "none")
		r.cmd.Env, r.cmd.Stderr = append(env, "AWS_SDK_UA_APP_ID="+fmt.Sprintf("replica-%d", i)), r.stderr
		require.NoError(t, r.cmd.Start())
		t.Cleanup(func() {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
			if t.Failed() {
				t.Logf("replica %d:\n%s", i, r.stderr.String())
			}
		})
		r.metric = scrapeMetrics(t, r.stderr)
		return r
	}
	rs := []*rateReplica{start(0), start(1), start(2)}
	shareIs := func(want float64, of ...*rateReplica) func() bool {
		return func() bool {
			for _, r := range of {
				if s := r.gauge(t, "cognito_resend_fleet_share"); s < want-1e-6 || s > want+1e-6 {
					return false
				}
			}
			return true
		}
	}
	require.Eventually(t, shareIs(fleetRate/3, rs...), 30*time.Second, 20*time.Millisecond, "three shares of 8/s")
	for _, r := range rs {
		require.Equal(t, 3.0, r.gauge(t, "cognito_resend_fleet_replicas"))
		require.Equal(t, fleetRate, r.gauge(t, "cognito_resend_fleet_rate"))
		require.Equal(t, 0.0, r.gauge(t, "cognito_resend_fleet_rate_mismatch"), "one --fleet-rate for all")
		require.Contains(t, r.stderr.String(), `"level":"WARN","msg":"--rate has no effect beside --fleet-rate`)
	}

	// Five whole seconds at the simulator: the fleet sends the fleet rate (not 3 × --rate).
	fleetPerSec := successesOver(t, sim, 5)
	t.Logf("three replicas: %.1f calls/s at the simulator (fleet rate %g)", fleetPerSec, fleetRate)
	require.InDelta(t, fleetRate, fleetPerSec, 0.15*fleetRate)

	// SIGKILL: replica 2's record stays until it expires (3 heartbeats), then the others
	// read the fleet without it and ramp to half each.
	require.NoError(t, rs[2].cmd.Process.Signal(syscall.SIGKILL))
	killed := time.Now()
	_ = rs[2].cmd.Wait()
	var sawTwo time.Duration
	require.Eventually(t, func() bool {
		if sawTwo == 0 && rs[0].gauge(t, "cognito_resend_fleet_replicas") == 2 {
			sawTwo = time.Since(killed)
		}
		return shareIs(fleetRate/2, rs[:2]...)()
	}, 20*time.Second, 20*time.Millisecond, "the survivors take the killed replica's share")
	took := time.Since(killed)
	t.Logf("SIGKILL → survivors count 2 after %s, shares at %g/s after %s", sawTwo.Round(10*time.Millisecond), fleetRate/2, took.Round(10*time.Millisecond))
	// Its last heartbeat was within 1 s before the kill: counted for 2-3 s after it
	// (never less: it may still have been sending), then a read (≤ 1 s) and the ramp
	// (1 s); 2 s of slack for a loaded machine.
	require.GreaterOrEqual(t, took, 2*time.Second, "shares rose while the dead replica's record was alive")
	require.LessOrEqual(t, took, 7*time.Second)

	// SIGTERM: replica 1 deletes its record on the way out; replica 0 takes everything
	// within a read and the ramp.
	require.NoError(t, rs[1].cmd.Process.Signal(syscall.SIGTERM))
	stopped := time.Now()
	require.Eventually(t, shareIs(fleetRate, rs[0]), 20*time.Second, 20*time.Millisecond)
	took = time.Since(stopped)
	t.Logf("SIGTERM → the last replica at the whole fleet rate after %s", took.Round(10*time.Millisecond))
	require.LessOrEqual(t, took, 5*time.Second)
	var ee *exec.ExitError
	require.ErrorAs(t, rs[1].cmd.Wait(), &ee, "a CSV campaign stopped before its end")
	require.Equal(t, exitStopped, ee.ExitCode(), rs[1].stderr.String())
	require.Contains(t, rs[1].stderr.String(), `"msg":"left fleet"`)
	require.NotContains(t, rs[1].stderr.String(), `"level":"WARN","msg":"fleet:`, "a clean exit: no heartbeat or read failure")
	require.Equal(t, 1.0, rs[0].gauge(t, "cognito_resend_fleet_replicas"))
}

// Adaptive cuts apply on top of the share: one replica told a fleet rate well above the
// quota is throttled, and its limiter settles below its share (the rate is the lower of
// the share and the controller's), near the quota, with few throttles.
func TestFleetRateAdaptiveCutsBelowTheShare(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	const q, share = 20.0, 60.0
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{Rate: q, Burst: q, LatencyFixed: 20 * time.Millisecond, Seed: 7})
	dir := t.TempDir()
	csv := writeUsers(t, dir, "users.csv", userRange(0, 1000))
	r := &rateReplica{stderr: &lockedBuffer{}}
	r.cmd = exec.Command(binPath, "run", "--csv", csv, "--report", filepath.Join(dir, "r.csv"),
		"--ledger-table", "ledger", "--fleet-rate", strconv.FormatFloat(share, 'f', -1, 64), "--fleet-name", "default",
		"--workers", "8", "--metrics-addr", "127.0.0.1:0", "--log-format", "json", "--progress", "none")
	r.cmd.Env, r.cmd.Stderr = ledgerEnv(sim.URL, dynamo), r.stderr
	require.NoError(t, r.cmd.Start())
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		if t.Failed() {
			t.Logf("replica:\n%s", r.stderr.String())
		}
	})
	r.metric = scrapeMetrics(t, r.stderr)
	require.Eventually(t, func() bool { return r.gauge(t, "cognito_resend_fleet_share") == share }, 30*time.Second, 20*time.Millisecond)
	// The controller finds the quota: judged over 4 whole seconds after a 4 s warm-up at
	// the simulator (polled with a deadline, not slept).
	require.Eventually(t, func() bool {
		from, to, ok := sim.Sim.Stats().JudgedSeconds(4 * time.Second)
		return ok && to-from >= 4
	}, 60*time.Second, 100*time.Millisecond, "4 s judged after a 4 s warm-up")
	limiter, err := strconv.ParseFloat(r.metric("cognito_resend_limiter_rate"), 64)
	require.NoError(t, err)
	require.Equal(t, share, r.gauge(t, "cognito_resend_fleet_share"), "alone in the fleet: all of it")
	st := sim.Sim.Stats()
	ok, thr, measured := st.RatesAfter(4 * time.Second)
	require.True(t, measured)
	t.Logf("share %g/s, limiter %.1f/s; at the simulator after 4 s: %.1f sent/s, %.2f throttled/s (Q=%g)", share, limiter, ok, thr, q)
	require.Less(t, limiter, 0.6*share, "the controller cut below the share")
	require.GreaterOrEqual(t, ok, 0.8*q, "and still uses the quota")
	require.LessOrEqual(t, thr/(ok+thr), 0.1, "throttles stay few")
}

// A stop while the replica waits to join (the hold before its first call) is a stop like
// any other: exit 3 for a CSV campaign, no Cognito call, and its record deleted.
func TestFleetRateStopWhileJoining(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{Rate: 50, Burst: 50, LatencyFixed: 10 * time.Millisecond, Seed: 8})
	dir := t.TempDir()
	csv := writeUsers(t, dir, "users.csv", userRange(0, 50))
	stderr := &lockedBuffer{}
	// A long heartbeat: the hold (1.5 heartbeats) lasts 15 s, plenty to stop in.
	cmd := exec.Command(binPath, "run", "--csv", csv, "--report", filepath.Join(dir, "r.csv"),
		"--ledger-table", "ledger", "--fleet-rate", "20", "--fleet-name", "default", "--fleet-heartbeat", "10s",
		"--log-format", "json", "--progress", "none")
	cmd.Env, cmd.Stderr = ledgerEnv(sim.URL, dynamo), stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), `"msg":"joining fleet`) },
		30*time.Second, 10*time.Millisecond, stderr.String())
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	var ee *exec.ExitError
	require.ErrorAs(t, cmd.Wait(), &ee, stderr.String())
	require.Equal(t, exitStopped, ee.ExitCode(), stderr.String())
	require.Contains(t, stderr.String(), `"msg":"left fleet"`)
	require.Zero(t, sim.Sim.Stats().Calls, "no call before the replica joined")
}

// A replica started with a lower --fleet-rate (2 against 12) cuts the whole fleet (issue
// 20, point 5): every replica names it in a WARN and reports the mismatch in
// cognito_resend_fleet_rate_mismatch; once it is gone, the fleet is back at 12.
func TestFleetRateMismatchIsNamed(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{Rate: 100, Burst: 100, LatencyFixed: 10 * time.Millisecond, Seed: 9})
	env := ledgerEnv(sim.URL, dynamo)
	dir := t.TempDir()
	start := func(i int, rate string) *rateReplica {
		csv := writeUsers(t, dir, fmt.Sprintf("users-%d.csv", i), userRange(i*1000, (i+1)*1000))
		r := &rateReplica{stderr: &lockedBuffer{}}
		r.cmd = exec.Command(binPath, "run", "--csv", csv, "--report", filepath.Join(dir, fmt.Sprintf("r%d.csv", i)),
			"--ledger-table", "ledger", "--fleet-rate", rate, "--fleet-name", "workers",
			"--workers", "2", "--metrics-addr", "127.0.0.1:0", "--log-format", "json", "--progress", "none")
		r.cmd.Env, r.cmd.Stderr = env, r.stderr
		require.NoError(t, r.cmd.Start())
		t.Cleanup(func() {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
			if t.Failed() {
				t.Logf("replica %d:\n%s", i, r.stderr.String())
			}
		})
		r.metric = scrapeMetrics(t, r.stderr)
		return r
	}
	gauge := func(r *rateReplica, name string) string { return r.metric(name + `{fleet="workers"}`) }
	high, low := start(0, "12"), start(1, "2")
	for _, r := range []*rateReplica{high, low} {
		require.Eventually(t, func() bool {
			return gauge(r, "cognito_resend_fleet_rate") == "2" && gauge(r, "cognito_resend_fleet_rate_mismatch") == "1"
		}, 30*time.Second, 20*time.Millisecond)
	}
	require.Equal(t, "12", gauge(high, "cognito_resend_fleet_rate_configured"))
	require.Equal(t, "2", gauge(low, "cognito_resend_fleet_rate_configured"))
	lowID := replicaID(t, low.stderr.String())
	warn := func(r *rateReplica, msg string) string {
		for _, l := range strings.Split(r.stderr.String(), "\n") {
			if strings.Contains(l, `"level":"WARN"`) && strings.Contains(l, msg) {
				return l
			}
		}
		return ""
	}
	require.Eventually(t, func() bool {
		return warn(high, "another replica was started with a lower --fleet-rate") != "" &&
			warn(low, "this replica's --fleet-rate is the lowest of the fleet") != ""
	}, 10*time.Second, 20*time.Millisecond)
	line := warn(high, "another replica was started with a lower --fleet-rate")
	require.Contains(t, line, `"fleet_rate":2,"lowest_replica":"`+lowID+`","this_fleet_rate":12`)
	require.Contains(t, warn(low, "this replica's --fleet-rate is the lowest"), `"lowest_replica":"`+lowID+`"`)
	t.Logf("on the 12/s replica: %s", line)

	require.NoError(t, low.cmd.Process.Signal(syscall.SIGTERM))
	require.Eventually(t, func() bool {
		return gauge(high, "cognito_resend_fleet_rate") == "12" && gauge(high, "cognito_resend_fleet_rate_mismatch") == "0"
	}, 20*time.Second, 20*time.Millisecond)
	require.Contains(t, high.stderr.String(), `"msg":"fleet: the replicas alive agree on --fleet-rate again"`)

	// Below the floor, or without a name: usage errors, before any call.
	for args, want := range map[string]string{
		"--fleet-rate 0.001 --fleet-name workers": "--fleet-rate: must be 0 (off) or at least 0.1 requests/second for the whole fleet (got 0.001)",
		"--fleet-rate 12":                         "--fleet-name: required with --fleet-rate",
	} {
		res := runBin(t, dir, env, "ann\n", append([]string{"run", "--csv", "-", "--ledger-table", "ledger"}, strings.Fields(args)...)...)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, want)
	}
}

var replicaField = regexp.MustCompile(`"replica":"([^"]+)"`)

// replicaID is the replica id a campaign logs at its start.
func replicaID(t *testing.T, log string) string {
	t.Helper()
	m := replicaField.FindStringSubmatch(log)
	require.NotNil(t, m, log)
	return m[1]
}

// successesOver is the simulator's successes per second over the next n whole seconds it
// records: polled (bounded) until they are recorded, not slept.
func successesOver(t *testing.T, sim *quotasim.Server, n int64) float64 {
	t.Helper()
	st := sim.Sim.Stats()
	var first int64 // the first whole second after now
	if len(st.PerSecond) > 0 {
		first = st.PerSecond[len(st.PerSecond)-1].Unix + 1
	}
	var succ int64
	require.Eventually(t, func() bool {
		st := sim.Sim.Stats()
		if first == 0 && len(st.PerSecond) > 0 {
			first = st.PerSecond[0].Unix + 1
		}
		succ = 0
		for _, ps := range st.PerSecond {
			if ps.Unix >= first && ps.Unix < first+n {
				succ += ps.Successes
			}
		}
		// Second first+n-1 is whole once a later one is being recorded.
		return first != 0 && len(st.PerSecond) > 0 && st.PerSecond[len(st.PerSecond)-1].Unix >= first+n
	}, time.Duration(n+30)*time.Second, 100*time.Millisecond, "%d whole seconds at the simulator", n)
	return float64(succ) / float64(n)
}
