package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Process tests of issue 22 point 1: a report is bound to its input. Resume matches lines
// by number; a line that names another user than the report's row for it is a usage
// error before any call, lines added at the end are new work, a pool campaign is bound
// to its pool.

func writeLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
}

// Resuming with the same users in another order, or with other users, would skip users
// by line number: refused (exit 2) before the prompt, the census and any call, naming
// the first differing line and both usernames.
func TestResumeRefusesAnotherOrReorderedCSV(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	writeLines(t, filepath.Join(dir, "e.csv"), "username", "bd-a", "bd-b", "bd-c", "bd-d", "bd-e")
	res := runBin(t, dir, env, "", "run", "--csv", "e.csv", "--report", "ra.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(5), sim.Sim.Stats().Calls)

	writeLines(t, filepath.Join(dir, "reordered.csv"), "username", "bd-a", "bd-c", "bd-b", "bd-d", "bd-e")
	writeLines(t, filepath.Join(dir, "other.csv"), "username", "bd-f", "bd-g", "bd-h", "bd-i", "bd-j", "bd-k")
	for _, c := range []struct {
		csv, want string
		args      []string
	}{
		{"reordered.csv", `line 3 of reordered.csv is "bd-c", but the report ra.csv has a row for line 3 with "bd-b"`, nil},
		{"reordered.csv", `line 3 of reordered.csv is "bd-c"`, []string{"--dry-run"}},
		{"other.csv", `line 2 of other.csv is "bd-f", but the report ra.csv has a row for line 2 with "bd-a"`, nil},
		{"other.csv", `line 2 of other.csv is "bd-f"`, []string{"--retry-failed", "--retry-unknown"}},
	} {
		res := runBin(t, dir, env, "", append([]string{"run", "--csv", c.csv, "--resume", "--report", "ra.csv"}, c.args...)...)
		require.Equal(t, 2, res.code, "%s %v: %s", c.csv, c.args, res.stderr)
		require.Contains(t, res.stderr, c.want)
		require.Contains(t, res.stderr, "put them at the END of that CSV and resume with it (the lines with rows are skipped). Only then, if you must: a new report (another --report) starts over and calls every user of the CSV again")
		require.Contains(t, res.stderr, "Nothing was sent")
		require.NotContains(t, res.stderr, "campaign starting")
	}
	require.Equal(t, int64(5), sim.Sim.Stats().Calls, "a refused resume calls nobody")
	_, rows := readCSVReport(t, filepath.Join(dir, "ra.csv"))
	require.Len(t, rows, 5, "and writes no row")
	require.FileExists(t, filepath.Join(dir, "ra.csv.input"), "the report records its input")

	// Standard input can't be counted first: its lines are checked as they are read, and
	// the run stops at the first differing one (line 2 matches and is skipped).
	reordered, err := os.ReadFile(filepath.Join(dir, "reordered.csv"))
	require.NoError(t, err)
	res = runBin(t, dir, env, string(reordered), "run", "--csv", "-", "--resume", "--report", "ra.csv")
	require.Equal(t, 3, res.code, res.stderr)
	require.Contains(t, notesText(res.stderr), `line 3 of - is "bd-c", but the report ra.csv has a row for line 3 with "bd-b"`)
	require.Contains(t, res.stderr, "The run stops here")
	require.Equal(t, int64(5), sim.Sim.Stats().Calls)

	// A new report is a new campaign: the changed CSV is sent in full.
	res = runBin(t, dir, env, "", "run", "--csv", "other.csv", "--report", "rb.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(5+6), sim.Sim.Stats().Calls)
}

// Lines added at the end of the CSV are new work: only they are called. A report made
// before reports were bound (no .input record) resumes with a warning, and is bound from
// then on.
func TestResumeCallsOnlyAppendedLines(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	users := []string{"ap-a", "ap-b", "ap-c"}
	writeLines(t, filepath.Join(dir, "e.csv"), append([]string{"username"}, users...)...)
	res := runBin(t, dir, env, "", "run", "--csv", "e.csv", "--report", "ra.csv")
	require.Equal(t, 0, res.code, res.stderr)

	writeLines(t, filepath.Join(dir, "e.csv"), append([]string{"username"}, append(users, "ap-d", "ap-e")...)...)
	res = runBin(t, dir, env, "", "run", "--csv", "e.csv", "--resume", "--report", "ra.csv", "--log-format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "the CSV is the report's with lines added at its end: they are new work")
	st := sim.Sim.Stats()
	require.Equal(t, int64(5), st.Calls)
	for _, u := range append(users, "ap-d", "ap-e") {
		require.Equal(t, int64(1), st.PerUser[u].Calls, u)
	}

	// An old report: no record of its input. It still resumes (the lines with a row are
	// still compared with that row), with a warning; the record is written then.
	require.NoError(t, os.Remove(filepath.Join(dir, "ra.csv.input")))
	writeLines(t, filepath.Join(dir, "e.csv"), append([]string{"username"}, append(users, "ap-d", "ap-e", "ap-f")...)...)
	res = runBin(t, dir, env, "", "run", "--csv", "e.csv", "--resume", "--report", "ra.csv", "--log-format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "the report has no record of its input")
	require.Equal(t, int64(1), sim.Sim.Stats().PerUser["ap-f"].Calls)
	require.Equal(t, int64(6), sim.Sim.Stats().Calls)
	require.FileExists(t, filepath.Join(dir, "ra.csv.input"))
}

// A pool campaign is bound to its pool: resuming its report with another pool is a
// usage error before any call.
func TestResumeBoundToItsPool(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	a := newPool(t, false, []string{"pb-1", "pb-2"}, nil)
	b := newPool(t, false, []string{"pb-3"}, nil)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+a.ClientID)
	res := runBin(t, dir, env, "", "run", "--user-pool-id", a.ID, "--report", "pool.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(2), sim.Sim.Stats().Calls)

	res = runBin(t, dir, env, "", "run", "--user-pool-id", b.ID, "--report", "pool.csv", "--resume")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "the report was made from user pool "+a.ID+", not "+b.ID)
	require.Contains(t, res.stderr, "start a new report")
	writeLines(t, filepath.Join(dir, "u.csv"), "username", "pb-1", "pb-2")
	res = runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "pool.csv", "--resume")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "the report was made from user pool "+a.ID+", not CSV ")
	require.Equal(t, int64(2), sim.Sim.Stats().Calls, "a refused resume calls nobody")

	res = runBin(t, dir, env, "", "run", "--user-pool-id", a.ID, "--report", "pool.csv", "--resume")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(2), sim.Sim.Stats().Calls)
}

// A queue campaign is bound to its queue: resuming its report on another queue is a
// usage error before anything is received from it (its messages stay visible) or sent.
func TestResumeBoundToItsQueue(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	fq := emu.SQS(t)
	c := emu.NewSQSClient(fq.Endpoint)
	sim := quotasim.StartT(t, quotasim.Config{})
	a, _ := queueWithDLQ(t, c, "bind-a", 5)
	b, _ := queueWithDLQ(t, c, "bind-b", 5)
	dir := t.TempDir()
	env := sqsEnv(sim.URL, fq.Endpoint, "c")
	writeLines(t, filepath.Join(dir, "a.csv"), "username", "qb-1", "qb-2")
	writeLines(t, filepath.Join(dir, "b.csv"), "username", "qb-3")
	for q, f := range map[string]string{a: "a.csv", b: "b.csv"} {
		res := runBin(t, dir, env, "", "enqueue", "--csv", f, "--sqs-queue-url", q)
		require.Equal(t, 0, res.code, res.stderr)
	}
	drain := []string{"--wait-time-seconds", "1", "--exit-when-empty", "--empty-polls", "1", "--report", "q.csv"}
	res := runBin(t, dir, env, "", append([]string{"run", "--sqs-queue-url", a}, drain...)...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(2), userCalls(sim), "the queue worker's probe is not a user")

	res = runBin(t, dir, env, "", append([]string{"run", "--sqs-queue-url", b, "--resume"}, drain...)...)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "the report was made from queue "+a+", not "+b)
	require.Equal(t, int64(2), userCalls(sim), "a refused resume calls nobody")
	vis, hidden := queueCounts(t, c, b)
	require.Equal(t, [2]int{1, 0}, [2]int{vis, hidden}, "nothing was received from the other queue")

	res = runBin(t, dir, env, "", append([]string{"run", "--sqs-queue-url", a, "--resume"}, drain...)...)
	require.Equal(t, 0, res.code, res.stderr)
}

// A CSV edited since the report was made (a line in the middle changed) is refused
// before any call: the trial saw DescribeUserPool (the username case rule) made first,
// though a line matches its row only as the same text whatever the pool's rule — a line
// that differs only by case too ("Una" for "una").
func TestEditedCSVRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	csv := filepath.Join(dir, "e.csv")
	writeLines(t, csv, "username", "una", "con", "dis", "adm")
	args := []string{"run", "--csv", "e.csv", "--report", "ra.csv", "--user-pool-id", p.ID, "--verify-users"}
	res := runBin(t, dir, env, "", args...)
	require.Equal(t, 0, res.code, res.stderr)
	require.NotZero(t, sim.Sim.Stats().Op("DescribeUserPool").Calls)

	for _, c := range []struct{ line, want string }{
		{"ghost", `line 3 of e.csv is "ghost", but the report ra.csv has a row for line 3 with "con"`},
		{"Con", `line 3 of e.csv is "Con", but the report ra.csv has a row for line 3 with "con"`},
	} {
		writeLines(t, csv, "username", "una", c.line, "dis", "adm", "new")
		for _, extra := range [][]string{nil, {"--dry-run"}} {
			sim.Sim.Reset()
			res = runBin(t, dir, env, "", append(append(args, "--resume"), extra...)...)
			require.Equal(t, 2, res.code, "%s %v: %s", c.line, extra, res.stderr)
			require.Contains(t, res.stderr, c.want)
			require.Contains(t, res.stderr, "Nothing was sent")
			require.Empty(t, sim.Sim.Stats().PerOp, "%s %v: no call at all, DescribeUserPool included", c.line, extra)
		}
	}
	// The file the report was made from, a line added: no refusal, the case rule read.
	writeLines(t, csv, "username", "una", "con", "dis", "adm", "new")
	sim.Sim.Reset()
	res = runBin(t, dir, env, "", append(append(args, "--resume"), "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	// "new": the census, then a lookup in the run; the 4 lines with rows are skipped.
	require.Contains(t, res.stdout, "rows read:   1, and 4 lines skipped (settled by the report: a row, or an intent with no row (unknown))\n")
	require.Contains(t, res.stdout, "reads:       2 ListUsers calls: 1 for the census (made), 1 lookup (in the run); none of them bills a user\n")
	require.EqualValues(t, 1, sim.Sim.Stats().Op("DescribeUserPool").Calls)
}
