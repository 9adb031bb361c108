package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Two runs on one report: the second (a resume, a dry run, a run) is refused before the
// prompt, naming the first's pid, and writes nothing; no user is called twice. A run
// killed with -9 leaves no lock behind that blocks the next.
func TestSecondRunOnTheSameReportRefused(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 500 * time.Millisecond})
	dir := t.TempDir()
	csvPath, users := writeUsersCSV(t, dir, 60)
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	args := []string{"run", "--csv", csvPath, "--report", "same-report.csv", "--workers", "4", "--log-level", "warn"}
	a, aErr := startBin(t, dir, env, args...)
	waitSuccesses(t, sim, 1, a)

	for _, extra := range [][]string{{"--resume"}, {"--resume", "--dry-run"}, {}} {
		res := runBin(t, dir, env, "", append(append([]string{}, args...), extra...)...)
		require.Equal(t, 2, res.code, "%v: %s", extra, res.stderr)
		require.Contains(t, res.stderr, "cognito-resend: report same-report.csv is in use by another cognito-resend run (pid ", extra)
		require.Contains(t, res.stderr, ", started ")
		// Trial 4: following "give this run another --report" sent every user twice.
		require.Contains(t, res.stderr, "): two runs on one report would call the same users twice. Wait for it to end, "+
			"or stop it (Ctrl-C where it runs, or kill -TERM on its pid: it stops softly) and continue it with --resume. "+
			"Another --report is no way round: it would start the campaign over beside that run and call every user a second time\n", extra)
		require.NotContains(t, res.stderr, "give this run another --report", extra)
		require.NotContains(t, res.stderr, "campaign starting")
	}
	require.NoError(t, a.Wait(), aErr.String())
	st := sim.Sim.Stats()
	for _, u := range users {
		require.Equal(t, int64(1), st.PerUser[u].Calls, "%s called once", u)
	}
	require.NoFileExists(t, filepath.Join(dir, "same-report.csv.lock"), "a run that ends removes its lock file")

	// kill -9: the lock dies with the process; its file stays and is no obstacle.
	args = []string{"run", "--csv", csvPath, "--report", "k.csv", "--workers", "4", "--log-level", "warn"}
	k, _ := startBin(t, dir, env, args...)
	waitSuccesses(t, sim, 62, k)
	require.NoError(t, k.Process.Signal(syscall.SIGKILL))
	_ = k.Wait()
	_, err := os.Stat(filepath.Join(dir, "k.csv.lock"))
	require.NoError(t, err, "kill -9 leaves the file")
	res := runBin(t, dir, env, "", append(args, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
}

// Trial 4, finding 2: while a run sends a CSV, a second run of the same CSV with another
// --report (what the lock refusal used to advise) started the campaign over beside it and
// called every user twice, rc 0. It is refused before any call, naming the running one's
// report and pid, and so is a resume of another report of that CSV; a dry run only warns.
// Once the first has ended, another report of the same CSV starts (over, on purpose).
func TestSameCSVOnAnotherReportWhileRunningRefused(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 500 * time.Millisecond})
	dir := t.TempDir()
	csvPath, users := writeUsersCSV(t, dir, 40)
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	a, aErr := startBin(t, dir, env, "run", "--csv", csvPath, "--report", "g-a.csv", "--workers", "4", "--log-level", "warn")
	waitSuccesses(t, sim, 1, a)

	for _, args := range [][]string{{"--report", "g-b.csv"}, {"--report", "g-b.csv", "--resume", "--start-if-missing"}} {
		res := runBin(t, dir, env, "", append([]string{"run", "--csv", csvPath, "--log-level", "warn"}, args...)...)
		require.Equal(t, 2, res.code, "%v: %s", args, res.stderr)
		require.Contains(t, res.stderr, "cognito-resend: --report: a run from CSV "+csvPath+" is in progress (pid ", args)
		require.Contains(t, res.stderr, ", report g-a.csv): another report of it now would call its users a second time, at "+
			"the same moment. Wait for it to end, or stop it (Ctrl-C where it runs, or kill -TERM on its pid); to continue that "+
			"campaign then: --resume --report g-a.csv\n", args)
		require.ElementsMatch(t, []string{"users.csv", "g-a.csv", "g-a.csv.input", "g-a.csv.ledger", "g-a.csv.lock"}, files(t, dir), args)
	}
	res := runBin(t, dir, env, "", "run", "--csv", csvPath, "--report", "g-b.csv", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "the run would be refused: --report: a run from CSV "+csvPath+" is in progress")

	require.NoError(t, a.Wait(), aErr.String())
	st := sim.Sim.Stats()
	for _, u := range users {
		require.Equal(t, int64(1), st.PerUser[u].Calls, "%s called once", u)
	}
	res = runBin(t, dir, env, "", "run", "--csv", csvPath, "--report", "g-b.csv", "--log-level", "warn")
	require.Equal(t, 0, res.code, "the first has ended: a new report starts: %s", res.stderr)
}
