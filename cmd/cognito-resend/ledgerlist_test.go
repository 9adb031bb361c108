package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// "Why didn't alice get a code?" (issue 20, point 8), asked of the table: a campaign
// sends most of its users, fails one (CodeDeliveryFailure), and a replica killed during
// a call leaves one claim whose lease runs out; `ledger list` finds each by state, for
// people and as JSON lines, and --campaign narrows it.
func TestLedgerListByState(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{Inject: map[string]quotasim.InjectedError{
		"bounced": {Type: "CodeDeliveryFailureException", Message: "Unable to deliver"}}})
	env := ledgerEnv(sim.URL, dynamo)
	dir := t.TempDir()
	args := []string{"--ledger-table", "ledger", "--ledger-lease", "3s", "--call-timeout", "2s"}

	res := runBin(t, dir, env, "alice\nbob\nbounced\n", append([]string{"run", "--csv", "-", "--report", "r1.csv", "--campaign-id", "spring"}, args...)...)
	require.Equal(t, 1, res.code, res.stderr) // a failed row: exit 1
	require.Contains(t, res.stderr, "failed=1")

	// A replica killed while its call hangs: its claim outlives it.
	require.NoError(t, sim.Sim.SetConfig(quotasim.Config{LatencyFixed: time.Minute}))
	held := exec.Command(binPath, append([]string{"run", "--csv", "-", "--report", "r2.csv", "--campaign-id", "summer"}, args...)...)
	held.Dir, held.Env, held.Stdin = dir, env, strings.NewReader("carol\n")
	var heldErr lockedBuffer
	held.Stderr = &heldErr
	require.NoError(t, held.Start())
	t.Cleanup(func() { _ = held.Process.Kill(); _ = held.Wait() })
	require.Eventually(t, func() bool { return sim.Sim.Stats().PerUser["carol"].Calls == 1 }, 30*time.Second, 5*time.Millisecond, heldErr.String())
	require.NoError(t, held.Process.Signal(syscall.SIGKILL))
	_ = held.Wait()

	list := func(extra ...string) runResult {
		t.Helper()
		res := runBin(t, dir, env, "", append([]string{"ledger", "list", "--ledger-table", "ledger"}, extra...)...)
		require.Equal(t, 0, res.code, res.stderr)
		return res
	}
	// While carol's lease is live she is being sent; after it, unknown.
	require.Contains(t, list("--state", "in_progress").stdout, "carol")
	require.Eventually(t, func() bool { return strings.Contains(list("--state", "unknown").stdout, "carol") }, 10*time.Second, 200*time.Millisecond)
	unknown := list("--state", "unknown").stdout
	t.Logf("ledger list --state unknown:\n%s", unknown)
	lines := strings.Split(strings.TrimSpace(unknown), "\n")
	require.Len(t, lines, 3, unknown)
	require.Regexp(t, `^USERNAME\s+STATE\s+OUTCOME\s+ERROR_CODE\s+ATTEMPTS\s+UPDATED\s+CAMPAIGN\s+REPLICA\s+EXPIRES$`, lines[0])
	require.Regexp(t, `^carol\s+unknown \(lease ran out\)\s+-\s+-\s+0\s+\S+Z\s+summer\s+\S+\s+\S+Z$`, lines[1])
	require.Regexp(t, `^1 records, state unknown, in table ledger in us-east-1 \(\d+ items scanned\)$`, lines[2])
	var carol map[string]any
	require.NoError(t, json.Unmarshal([]byte(list("--state", "unknown", "--json").stdout), &carol))
	require.Equal(t, "unknown", carol["state"])
	require.Equal(t, true, carol["lease_ran_out"])

	require.Contains(t, list("--state", "UNKNOWN").stdout, "carol", "states as ledger show prints them")
	failed := list("--state", "failed").stdout
	t.Logf("ledger list --state failed:\n%s", failed)
	require.Regexp(t, `(?m)^bounced\s+released\s+failed\s+CodeDeliveryFailureException\s+1\s+\S+\s+spring\s`, failed)
	require.NotContains(t, failed, "alice")

	sent := list("--state", "sent", "--json")
	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(sent.stdout), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &rec), l)
		got = append(got, rec)
	}
	require.Len(t, got, 2, sent.stdout)
	for _, rec := range got {
		require.Contains(t, []any{"alice", "bob"}, rec["username"])
		require.Equal(t, "sent", rec["state"])
		require.Equal(t, "spring", rec["campaign"])
		require.NotEmpty(t, rec["sent_at"])
		require.NotEmpty(t, rec["expires_at"], "kept --ledger-retention")
		exp, err := time.Parse(time.RFC3339, rec["expires_at"].(string))
		require.NoError(t, err)
		require.Greater(t, time.Until(exp), 29*24*time.Hour, "30 days by default")
	}
	require.Contains(t, sent.stderr, "2 records, state sent")

	require.NotContains(t, list("--state", "sent", "--campaign", "summer").stdout, "alice", "--campaign narrows")
	limited := list("--state", "sent", "--limit", "1")
	require.Contains(t, limited.stdout, "more records match: raise --limit (now 1)")

	zero := runBin(t, dir, env, "", "ledger", "list", "--ledger-table", "ledger", "--state", "sent", "--limit", "0")
	require.Equal(t, 2, zero.code, zero.stderr)
	bad := runBin(t, dir, env, "", "ledger", "list", "--ledger-table", "ledger", "--state", "lost")
	require.Equal(t, 2, bad.code, bad.stderr)
	require.Contains(t, bad.stderr, `--state: must be a state (sent, unknown, in_progress, released) or a last outcome`)
	require.Equal(t, int64(1), sim.Sim.Stats().PerUser["alice"].Successes)
}

// `ledger export` onto an existing file: refused before the table's scan, naming its own
// option (--output); it said "use --resume … or choose another --report", options it
// does not have, after the scan. The file is left as it was.
func TestLedgerExportOntoExistingFile(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "lambda.csv"), "kept")
	res := runBin(t, dir, ledgerEnv("http://127.0.0.1:1", dynamo), "", "ledger", "export", "--ledger-table", "ledger",
		"--campaign", "lambda:fn", "--output", "lambda.csv")
	t.Logf("exit %d: %s", res.code, res.stderr)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "cognito-resend: --output: lambda.csv already exists: ledger export never overwrites "+
		"a file; choose another --output (or move that file away)")
	require.NotContains(t, res.stderr, "--resume")
	b, err := os.ReadFile(filepath.Join(dir, "lambda.csv"))
	require.NoError(t, err)
	require.Equal(t, "kept\n", string(b))
}

// Trial 4, finding 5: `ledger export` of a campaign the table has no record of (a
// misspelt --campaign) wrote an empty file, exit 0, "0 users of campaign csv:nosuch ()
// … (their messages are in the queue or its DLQ)". It is exit 2, writes nothing and names
// the campaigns the table has; a CSV campaign's export speaks of --resume, not a queue.
func TestLedgerExportUnknownCampaign(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	env := ledgerEnv(sim.URL, dynamo)
	dir := t.TempDir()
	for id, users := range map[string]string{"spring": "alice\nbob\n", "csv:u.csv@2026-12-05T07:00:00Z": "carol\n"} {
		res := runBin(t, dir, env, users, "run", "--csv", "-", "--report", strings.NewReplacer(":", "-", "@", "-").Replace(id)+".csv",
			"--campaign-id", id, "--ledger-table", "ledger")
		require.Equal(t, 0, res.code, res.stderr)
	}
	export := func(campaign, out string, extra ...string) runResult {
		return runBin(t, dir, env, "", append([]string{"ledger", "export", "--ledger-table", "ledger", "--campaign", campaign,
			"--output", out}, extra...)...)
	}
	res := export("csv:nosuch", "nosuch.csv")
	t.Logf("exit %d: %s", res.code, res.stderr)
	require.Equal(t, 2, res.code, res.stderr)
	// ledgerEnv sets COGNITO_CLIENT_ID, which keeps that client's users (as for an operator).
	require.Equal(t, "cognito-resend: --campaign: table ledger in us-east-1 has no record of campaign csv:nosuch of app client "+
		"client, nothing written; its campaigns of app client client: spring (2 users), csv:u.csv@2026-12-05T07:00:00Z (1 user). --campaign takes the id a campaign "+
		"logged at its start (its log's campaign), or its --campaign-id\n", res.stderr)
	require.NoFileExists(t, filepath.Join(dir, "nosuch.csv"))

	res = export("spring", "s.csv", "--client-id", "other")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "has no record of campaign spring of app client other, nothing written; it has no campaign's "+
		"records of app client other (none written yet, or all past their --ledger-retention).")

	res = export("csv:u.csv@2026-12-05T07:00:00Z", "u.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "u.csv: 1 user of campaign csv:u.csv@2026-12-05T07:00:00Z (sent 1) from table ledger in us-east-1; "+
		"0 being sent now, 0 given back without an outcome yet (not called: --resume of the campaign's report sends them)\n", res.stderr)
	require.NotContains(t, res.stderr, "DLQ")
}
