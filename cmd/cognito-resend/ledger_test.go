package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Process-level tests of the shared ledger table: the built binary, dynalite for the
// table, the quota simulator for Cognito (its per-user counts are the truth about sends).

// ledgerEnv is the environment of a campaign against the simulator and a table on
// dynalite at dynamo.
func ledgerEnv(simURL, dynamo string) []string {
	return append(append(baseEnv(simURL), emu.DynamoEnv(dynamo)...), "COGNITO_CLIENT_ID=client")
}

// newLedgerTable starts dynalite and creates the table with `ledger init`.
func newLedgerTable(t *testing.T) (endpoint string) {
	t.Helper()
	srv := emu.Dynamo(t, emu.WithTableDelay(0))
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := srv.Logs()
			t.Logf("dynalite log:\n%s", logs)
		}
	})
	res := runBin(t, t.TempDir(), ledgerEnv("http://127.0.0.1:1", srv.Endpoint), "", "ledger", "init", "--ledger-table", "ledger")
	require.Equal(t, 0, res.code, res.stderr)
	return srv.Endpoint
}

// statuses reads a CSV report: username → statuses of its rows.
func statuses(t *testing.T, path string) map[string][]string {
	t.Helper()
	_, rows := readCSVReport(t, path)
	out := map[string][]string{}
	for _, r := range rows {
		out[r["username"]] = append(out[r["username"]], r["status"])
	}
	return out
}

func writeUsers(t *testing.T, dir, name string, users []string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte("username\n"+strings.Join(users, "\n")+"\n"), 0o600))
	return p
}

func userRange(from, to int) []string {
	var us []string
	for i := from; i < to; i++ {
		us = append(us, fmt.Sprintf("user-%04d", i))
	}
	return us
}

func TestLedgerInitAndShow(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	srv := emu.Dynamo(t) // a new table is CREATING for 500 ms: init waits for ACTIVE
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := ledgerEnv(sim.URL, srv.Endpoint)

	res := runBin(t, dir, env, "", "ledger", "init", "--ledger-table", "fleet")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "table fleet in us-east-1 created: on-demand billing, key pk (S) + sk (S); TTL on expires_at: not supported by this endpoint")
	res = runBin(t, dir, env, "", "ledger", "init", "--ledger-table", "fleet")
	require.Equal(t, 0, res.code, "idempotent: %s", res.stderr)
	require.Contains(t, res.stdout, "table fleet in us-east-1 exists with the ledger's key schema")

	require.NoError(t, emu.CreateTable(t.Context(), emu.NewDynamoClient(srv.Endpoint), "sessions", emu.TableOptions{HashKey: "id"}))
	res = runBin(t, dir, env, "", "ledger", "init", "--ledger-table", "sessions")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "table sessions in us-east-1 exists but is not a cognito-resend ledger: partition key is id, want pk (S); no sort key, want sk (S)")

	// A run against a table that doesn't exist, or isn't a ledger: a usage error, no call.
	for _, table := range []string{"missing", "sessions"} {
		res = runBin(t, dir, env, "ann\n", "run", "--csv", "-", "--report", table+".csv", "--ledger-table", table)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, "--ledger-table: ")
	}
	require.Zero(t, sim.Sim.Stats().Calls)

	res = runBin(t, dir, env, "ann\nbob\n", "run", "--csv", "-", "--report", "r.csv", "--ledger-table", "fleet",
		"--campaign-id", "spring")
	require.Equal(t, 0, res.code, res.stderr)
	res = runBin(t, dir, env, "", "ledger", "show", "--ledger-table", "fleet", "ANN", "carol")
	require.Equal(t, 0, res.code, res.stderr)
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	require.Len(t, lines, 2, res.stdout)
	require.Regexp(t, `^ANN  SENT  sent at 20\d\d-\d\d-\d\dT[0-9:]+Z  outcome=sent  attempts=1  campaign="spring"  replica="[^"/]+/\d+/[0-9a-f]{8}"  updated \S+  expires \S+$`, lines[0])
	require.Equal(t, "carol  no record: never claimed through this table and client, or its record expired", lines[1])

	res = runBin(t, dir, env, "", "ledger", "show", "--ledger-table", "fleet")
	require.Equal(t, 2, res.code, "no usernames: %s", res.stderr)
	res = runBin(t, dir, append(env, "COGNITO_CLIENT_ID="), "", "ledger", "show", "--ledger-table", "fleet", "ann")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "--client-id")
}

// Two campaigns started at the same moment on overlapping lists, one table: each user
// is sent once. The same CSV again: no call, every row recently_sent. With --cooldown 1s
// and a pause: sent again.
func TestCampaignsShareTheTable(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 3 * time.Millisecond, LatencyJitter: 2 * time.Millisecond, Seed: 5})
	env := ledgerEnv(sim.URL, dynamo)
	dirA, dirB := t.TempDir(), t.TempDir()
	listA, listB := writeUsers(t, dirA, "a.csv", userRange(0, 400)), writeUsers(t, dirB, "b.csv", userRange(200, 600))
	args := []string{"--ledger-table", "ledger", "--ledger-lease", "15s", "--call-timeout", "2s", "--rate", "200",
		"--burst", "10", "--workers", "4", "--log-level", "warn"}

	var wg sync.WaitGroup
	results := make([]runResult, 2)
	for i, c := range []struct{ dir, csv string }{{dirA, listA}, {dirB, listB}} {
		wg.Go(func() {
			results[i] = runBin(t, c.dir, env, "", append([]string{"run", "--csv", c.csv, "--report", "r.csv"}, args...)...)
		})
	}
	wg.Wait()
	for _, r := range results {
		require.Equal(t, 0, r.code, r.stderr)
	}
	st := sim.Sim.Stats()
	a, b := statuses(t, filepath.Join(dirA, "r.csv")), statuses(t, filepath.Join(dirB, "r.csv"))
	overlapRecent := 0
	for _, u := range userRange(0, 600) {
		require.Equal(t, int64(1), st.PerUser[u].Successes, "%s: one code", u)
		rows := append(append([]string{}, a[u]...), b[u]...)
		sent := 0
		for _, s := range rows {
			switch s {
			case "sent":
				sent++
			case "recently_sent":
				overlapRecent++
			default:
				t.Fatalf("%s: row %q", u, s)
			}
		}
		require.Equal(t, 1, sent, "%s: one sent row across the campaigns (%v)", u, rows)
	}
	require.Equal(t, 200, overlapRecent, "each overlapping user: sent by one, recently_sent in the other")
	t.Logf("two campaigns at once: 600 users, %d sends, the %d shared users sent by one and recently_sent in the other",
		st.Successes, overlapRecent)

	// The same CSV again, tomorrow's rerun within the cooldown: nobody is called.
	calls := st.Calls
	dirC := t.TempDir()
	res := runBin(t, dirC, env, "", append([]string{"run", "--csv", listA, "--report", "r.csv"}, args...)...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, calls, sim.Sim.Stats().Calls, "0 calls")
	again := statuses(t, filepath.Join(dirC, "r.csv"))
	require.Len(t, again, 400)
	for u, s := range again {
		require.Equal(t, []string{"recently_sent"}, s, u)
	}
	require.Contains(t, res.stderr, "recently_sent=400")
}

// --cooldown 1s and a pause: sent again; the same pause under the default cooldown:
// recently_sent.
func TestCooldownPassedSendsAgain(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	env := ledgerEnv(sim.URL, dynamo)
	dir := t.TempDir()
	short, long := writeUsers(t, dir, "short.csv", userRange(0, 20)), writeUsers(t, dir, "long.csv", userRange(100, 120))
	run := func(csv, report string, extra ...string) runResult {
		// The table through the environment, as the deploy kit sets it.
		res := runBin(t, dir, append(env, "COGNITO_RESEND_LEDGER_TABLE=ledger"), "",
			append([]string{"run", "--csv", csv, "--report", report}, extra...)...)
		require.Equal(t, 0, res.code, res.stderr)
		return res
	}
	run(short, "s1.csv", "--cooldown", "1s")
	run(long, "l1.csv")
	time.Sleep(2 * time.Second) // the cooldown is wall-clock time in another process
	require.Contains(t, run(short, "s2.csv", "--cooldown", "1s").stderr, "sent=20")
	require.Contains(t, run(long, "l2.csv").stderr, "recently_sent=20")
	st := sim.Sim.Stats()
	for u, s := range statuses(t, filepath.Join(dir, "s2.csv")) {
		require.Equal(t, []string{"sent"}, s, u)
		require.Equal(t, int64(2), st.PerUser[u].Successes, u)
	}
	for _, u := range userRange(100, 120) {
		require.Equal(t, int64(1), st.PerUser[u].Successes, u)
	}
}

// A replica killed during a call: its claim outlives it until the lease runs out; the
// next replica (an empty directory) reports the user unknown without calling; with
// --retry-unknown it calls.
func TestKilledOwnerIsUnknownForTheNext(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: time.Minute}) // the call hangs
	env := ledgerEnv(sim.URL, dynamo)
	args := []string{"run", "--csv", "-", "--report", "r.csv", "--ledger-table", "ledger", "--ledger-lease", "3s",
		"--call-timeout", "2s"}

	dirA := t.TempDir()
	a := exec.Command(binPath, args...)
	a.Dir, a.Env, a.Stdin = dirA, env, strings.NewReader("held\n")
	var aErr lockedBuffer
	a.Stderr = &aErr
	require.NoError(t, a.Start())
	t.Cleanup(func() { _ = a.Process.Kill(); _ = a.Wait() })
	require.Eventually(t, func() bool { return sim.Sim.Stats().Calls == 1 }, 30*time.Second, 5*time.Millisecond, aErr.String())
	require.NoError(t, a.Process.Signal(syscall.SIGKILL))
	_ = a.Wait()
	require.NoError(t, sim.Sim.SetConfig(quotasim.Config{}))

	dirB := t.TempDir()
	start := time.Now()
	res := runBin(t, dirB, env, "held\n", args...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, map[string][]string{"held": {"unknown"}}, statuses(t, filepath.Join(dirB, "r.csv")))
	require.Equal(t, int64(1), sim.Sim.Stats().PerUser["held"].Calls, "no call by the next replica")
	t.Logf("busy until the dead owner's lease ran out, then unknown: %s", time.Since(start).Round(time.Millisecond))
	_, rows := readCSVReport(t, filepath.Join(dirB, "r.csv"))
	require.Contains(t, rows[0]["error_message"], "whose lease ran out")

	res = runBin(t, t.TempDir(), env, "held\n", append(args, "--retry-unknown")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(2), sim.Sim.Stats().PerUser["held"].Calls, "--retry-unknown calls")
	require.Equal(t, int64(1), sim.Sim.Stats().PerUser["held"].Successes)
}

// flakyProxy forwards TCP to a target until down: then it cuts every connection and
// resets new ones (the table is unreachable) until up.
type flakyProxy struct {
	addr string
	mu   sync.Mutex
	off  bool
	open map[net.Conn]struct{}
}

func newFlakyProxy(t *testing.T, target string) *flakyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	p := &flakyProxy{addr: "http://" + ln.Addr().String(), open: map[net.Conn]struct{}{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.off {
				p.mu.Unlock()
				_ = c.(*net.TCPConn).SetLinger(0)
				_ = c.Close()
				continue
			}
			p.open[c] = struct{}{}
			p.mu.Unlock()
			go p.pipe(c, strings.TrimPrefix(target, "http://"))
		}
	}()
	return p
}

func (p *flakyProxy) pipe(c net.Conn, target string) {
	up, err := net.Dial("tcp", target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.open[up] = struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
}

func (p *flakyProxy) set(off bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.off = off
	if off {
		for c := range p.open {
			_ = c.Close()
		}
		clear(p.open)
	}
}

// The table becomes unreachable mid-campaign: the campaign stops (exit 3) within
// seconds; every user called had a durable claim; --resume finishes it.
func TestTableUnreachableStopsTheCampaign(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	proxy := newFlakyProxy(t, dynamo)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 5 * time.Millisecond})
	env := ledgerEnv(sim.URL, proxy.addr)
	dir := t.TempDir()
	users := userRange(0, 600)
	csv := writeUsers(t, dir, "u.csv", users)
	args := []string{"run", "--csv", csv, "--report", "r.csv", "--ledger-table", "ledger", "--ledger-lease", "9s",
		"--call-timeout", "2s", "--rate", "100", "--burst", "10", "--workers", "8", "--log-level", "warn"}

	cmd := exec.Command(binPath, args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool { return sim.Sim.Stats().Successes >= 150 }, time.Minute, 5*time.Millisecond)
	proxy.set(true)
	cut := time.Now()
	err := cmd.Wait()
	stopped := time.Since(cut)
	require.Error(t, err)
	require.Equal(t, 3, cmd.ProcessState.ExitCode(), stderr.String())
	require.Less(t, stopped, 10*time.Second, "exit 3 within seconds")
	require.Contains(t, stderr.String(), "nobody was called without a durable claim")
	t.Logf("table cut after %d sends: exit 3 after %s", sim.Sim.Stats().Successes, stopped.Round(time.Millisecond))

	// Every user called had a claim in the table (read straight from dynalite).
	db := emu.NewDynamoClient(dynamo)
	st := sim.Sim.Stats()
	called := 0
	for _, u := range users {
		if st.PerUser[u].Calls == 0 {
			continue
		}
		called++
		out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String("ledger"), ConsistentRead: aws.Bool(true),
			Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "user#client#" + u},
				"sk": &ddbtypes.AttributeValueMemberS{Value: "claim"}}})
		require.NoError(t, err)
		require.NotEmpty(t, out.Item, "%s was called without a claim", u)
	}
	require.Less(t, called, len(users), "stopped mid-campaign")

	proxy.set(false)
	res := runBin(t, dir, env, "", append(args, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	final := statuses(t, filepath.Join(dir, "r.csv"))
	st = sim.Sim.Stats()
	unknown := 0
	for _, u := range users {
		require.LessOrEqual(t, st.PerUser[u].Successes, int64(1), u)
		require.Len(t, final[u], 1, "%s: one row", u)
		switch final[u][0] {
		case "sent":
			require.Equal(t, int64(1), st.PerUser[u].Successes, u)
		case "unknown":
			unknown++ // claimed when the table went away; not called again
		default:
			t.Fatalf("%s: %s", u, final[u][0])
		}
	}
	require.LessOrEqual(t, unknown, 8+16, "at most the jobs claimed at the cut")
	t.Logf("resumed: %d users, %d unknown (claimed when the table went away)", len(users), unknown)
}
