package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Process tests of a tired operator's mistakes: each is a usage error (exit 2) before
// any call, saying what to do instead.

// Excel's CSV in European locales is `;`-separated: each whole line would be one
// "username". Refused by its header, or when every row splits alike.
func TestSemicolonSeparatedCSVRefused(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	writeLines(t, filepath.Join(dir, "excel.csv"), "username;email;name", "demo-user-024;a@b.c;A", "demo-user-025;d@e.f;D")
	writeLines(t, filepath.Join(dir, "noheader.csv"), "demo-user-024;a@b.c;A", "demo-user-025;d@e.f;D")
	for name, want := range map[string]string{
		"excel.csv":    `--csv excel.csv: not a CSV of usernames: looks like a ` + "`;`" + `-separated file (line 1 is "username;email;name", read as one field): save it as CSV (comma-separated), or give a one-column file of usernames`,
		"noheader.csv": `--csv noheader.csv: not a CSV of usernames: looks like a ` + "`;`" + `-separated file (line 1 is "demo-user-024;a@b.c;A", read as one field)`,
	} {
		for _, args := range [][]string{{"--dry-run"}, {"--report", "r.csv"}} {
			res := runBin(t, dir, env, "", append([]string{"run", "--csv", name}, args...)...)
			require.Equal(t, 2, res.code, "%s %v: %s", name, args, res.stderr)
			require.Contains(t, res.stderr, want)
			require.NotContains(t, res.stdout, "to send")
		}
	}
	body, err := os.ReadFile(filepath.Join(dir, "excel.csv"))
	require.NoError(t, err)
	res := runBin(t, dir, env, string(body), "run", "--csv", "-", "--report", "stdin.csv")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, `--csv -: not a CSV of usernames: looks like a `+"`;`"+`-separated file`)
	require.NoFileExists(t, filepath.Join(dir, "r.csv"))
	require.Zero(t, sim.Sim.Stats().Calls)
}

// Positional arguments to a command that takes none, and a repeated --csv, are usage
// errors naming them (urfave/cli would ignore them, or let the last --csv win).
func TestStrayArgumentsRefused(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	writeLines(t, filepath.Join(dir, "glob-a.csv"), "username", "sa-1")
	writeLines(t, filepath.Join(dir, "glob-b.csv"), "username", "sa-2")
	writeLines(t, filepath.Join(dir, "users.csv"), "username", "sa-3")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--csv", "glob-a.csv", "glob-b.csv", "--report", "r.csv"},
			`cognito-resend: run takes no arguments, got "glob-b.csv": the shell expanded a glob into several files? give one file to --csv; see 'cognito-resend run --help'`},
		{[]string{"run", "users.csv", "--dry-run"},
			`cognito-resend: run takes no arguments, got "users.csv" (did you mean --csv users.csv?); see 'cognito-resend run --help'`},
		{[]string{"run", "--csv", "users.csv", "--dry-run", "extra"},
			`cognito-resend: run takes no arguments, got "extra": every option is --name value`},
		{[]string{"run", "--csv", "glob-a.csv", "--csv", "glob-b.csv", "--report", "r.csv"},
			`cognito-resend: --csv given twice: give it once (the shell expanded a glob into several files?); see 'cognito-resend run --help'`},
		{[]string{"enqueue", "--csv", "users.csv", "--sqs-queue-url", "http://127.0.0.1:1/q", "extra"},
			`cognito-resend: enqueue takes no arguments, got "extra"`},
		{[]string{"config", "print", "users.csv"}, `cognito-resend: config print takes no arguments, got "users.csv"`},
	} {
		res := runBin(t, dir, env, "", c.args...)
		require.Equal(t, 2, res.code, "%v: %s", c.args, res.stderr)
		require.Contains(t, res.stderr, c.want, c.args)
		require.NotContains(t, res.stdout, "to send", c.args)
	}
	require.NoFileExists(t, filepath.Join(dir, "r.csv"))
	require.Zero(t, sim.Sim.Stats().Calls)
}

// A report given as --csv would call everyone in it again: refused, pointing at
// `report users`, whose list stays accepted input.
func TestReportAsCSVRefused(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	writeLines(t, filepath.Join(dir, "users.csv"), "username", "ra-1", "ra-2", "ra-3")
	res := runBin(t, dir, env, "", "run", "--csv", "users.csv", "--report", "old.csv")
	require.Equal(t, 0, res.code, res.stderr)
	for _, args := range [][]string{{"--dry-run"}, {"--report", "new.csv"}} {
		res = runBin(t, dir, env, "", append([]string{"run", "--csv", "old.csv"}, args...)...)
		require.Equal(t, 2, res.code, "%v: %s", args, res.stderr)
		require.Contains(t, res.stderr, "cognito-resend: --csv old.csv: this is a cognito-resend report (its header has "+
			"username, status and source_ref), not a list of users: as input it would call everyone in it again")
		require.Contains(t, res.stderr, "cognito-resend report users --status <s> -o retry.csv REPORT")
	}
	require.NoFileExists(t, filepath.Join(dir, "new.csv"))
	require.Equal(t, int64(3), sim.Sim.Stats().Calls)

	res = runBin(t, dir, env, "", "report", "users", "--status", "sent", "-o", "retry.csv", "old.csv")
	require.Equal(t, 0, res.code, res.stderr)
	res = runBin(t, dir, env, "", "run", "--csv", "retry.csv", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "to send:     3")
}

// --resume onto a report that does not exist (a mistyped path) would start a new
// campaign and call everyone again: refused, naming a close report; --start-if-missing
// is the automation's "start or continue".
func TestResumeMissingReportRefused(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	writeLines(t, filepath.Join(dir, "users.csv"), "username", "rm-1", "rm-2")
	res := runBin(t, dir, env, "", "run", "--csv", "users.csv", "--report", "campaign-0412.csv")
	require.Equal(t, 0, res.code, res.stderr)
	writeLines(t, filepath.Join(dir, "other.csv"), "username", "rm-3")

	for _, c := range []struct {
		csv, report, want string
	}{
		{"users.csv", "campaign-0421.csv", "cognito-resend: --resume: the report campaign-0421.csv does not exist (the report made from this input here is campaign-0412.csv: --resume --report campaign-0412.csv). --resume continues a report; to start the campaign, drop --resume (automation that starts or continues it: --resume --start-if-missing)"},
		{"other.csv", "campaign-0421.csv", "cognito-resend: --resume: the report campaign-0421.csv does not exist (did you mean --report campaign-0412.csv?)"},
		{"other.csv", "zzz.csv", "cognito-resend: --resume: the report zzz.csv does not exist. --resume continues a report"},
	} {
		for _, extra := range [][]string{nil, {"--dry-run"}} {
			res = runBin(t, dir, env, "", append([]string{"run", "--csv", c.csv, "--resume", "--report", c.report}, extra...)...)
			require.Equal(t, 2, res.code, "%v %v: %s", c, extra, res.stderr)
			require.Contains(t, res.stderr, c.want)
			require.NoFileExists(t, filepath.Join(dir, c.report))
		}
	}
	require.Equal(t, int64(2), sim.Sim.Stats().Calls)

	res = runBin(t, dir, env, "", "run", "--csv", "other.csv", "--resume", "--start-if-missing", "--report", "new.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(3), sim.Sim.Stats().Calls)
	res = runBin(t, dir, env, "", "run", "--csv", "other.csv", "--resume", "--start-if-missing", "--report", "new.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(3), sim.Sim.Stats().Calls, "and continues it")
}

// --resume --start-if-missing with a mistyped --report (the trial: b.csv.reprot.csv
// beside b.csv.report.csv of the same CSV) started the campaign over and called every
// user again: refused, naming the report of the same CSV and the command that continues
// it. A first run (no report of that input here) still starts.
func TestStartIfMissingTypoRefused(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	writeLines(t, filepath.Join(dir, "b.csv"), "username", "sm-1", "sm-2", "sm-3")
	args := []string{"run", "--csv", "b.csv", "--resume", "--start-if-missing", "--log-format", "text"}
	res := runBin(t, dir, env, "", append(args, "--report", "b.csv.report.csv")...)
	require.Equal(t, 0, res.code, res.stderr) // the CronJob's first run starts
	require.EqualValues(t, 3, sim.Sim.Stats().Calls)

	want := "cognito-resend: --start-if-missing: the report b.csv.reprot.csv does not exist, but the report " +
		"b.csv.report.csv beside it was made from the same CSV (same SHA-256 digest): starting b.csv.reprot.csv would " +
		"call its users a second time. Nothing was sent. To continue that campaign: --resume --report b.csv.report.csv; " +
		"to start over on purpose (every user is called again): drop --resume --start-if-missing"
	for _, extra := range [][]string{nil, {"--dry-run"}} {
		res = runBin(t, dir, env, "", append(append(args, "--report", "b.csv.reprot.csv"), extra...)...)
		t.Logf("%v: exit %d\n%s", extra, res.code, res.stderr)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, want)
		require.NoFileExists(t, filepath.Join(dir, "b.csv.reprot.csv"))
	}
	require.EqualValues(t, 3, sim.Sim.Stats().Calls, "nobody called twice")

	// The advice works: the report named continues (nothing left to send).
	res = runBin(t, dir, env, "", append(args, "--report", "b.csv.report.csv")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.EqualValues(t, 3, sim.Sim.Stats().Calls)
}

// The trial's typo once more, after the CSV grew (lines appended: the CronJob's list of
// the day): the report beside the mistyped one was made from the same CSV path but other
// bytes, so the same-digest check missed it and the mistyped run started over, calling
// everyone again. Refused the same way, naming that report and saying the CSV changed
// since; so is the same command without --report; a bare --resume names that report.
// The advice works: that report continues and sends only the lines added.
func TestStartIfMissingTypoRefusedAfterTheCSVGrew(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	csv := filepath.Join(dir, "b.csv")
	writeLines(t, csv, "username", "sg-1", "sg-2", "sg-3")
	args := []string{"run", "--csv", "b.csv", "--resume", "--start-if-missing", "--log-format", "text"}
	res := runBin(t, dir, env, "", append(args, "--report", "b.csv.report.csv")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.EqualValues(t, 3, sim.Sim.Stats().Calls)
	before, err := os.Stat(csv)
	require.NoError(t, err)
	writeLines(t, csv, "username", "sg-1", "sg-2", "sg-3", "sg-4", "sg-5") // the same list, two lines added
	after, err := os.Stat(csv)
	require.NoError(t, err)

	grown := fmt.Sprintf("was made from the same CSV path (%s), which has grown since it was made (%d bytes then, %d now: "+
		"lines were added at its end)", csv, before.Size(), after.Size())
	want := "cognito-resend: --start-if-missing: the report b.csv.reprot.csv does not exist, but the report " +
		"b.csv.report.csv beside it " + grown + ": starting b.csv.reprot.csv would call its users a second time. " +
		"Nothing was sent. To continue that campaign: --resume --report b.csv.report.csv (the lines with rows are " +
		"skipped, lines added at the CSV's end are sent); to start over on purpose (every user is called again): " +
		"drop --resume --start-if-missing"
	for _, extra := range [][]string{nil, {"--dry-run"}} {
		res = runBin(t, dir, env, "", append(append(args, "--report", "b.csv.reprot.csv"), extra...)...)
		t.Logf("%v: exit %d\n%s", extra, res.code, res.stderr)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, want)
		require.NoFileExists(t, filepath.Join(dir, "b.csv.reprot.csv"))
	}
	// Without --report (a new default report each run): refused, naming it.
	res = runBin(t, dir, env, "", "run", "--csv", "b.csv")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "cognito-resend: --report: not given, but the report b.csv.report.csv "+grown+
		": running again would call its users a second time. To continue that campaign: --resume --report b.csv.report.csv")
	// A bare --resume onto the mistyped report names it.
	res = runBin(t, dir, env, "", "run", "--csv", "b.csv", "--resume", "--report", "b.csv.reprot.csv")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "the report b.csv.reprot.csv does not exist (the report made from this CSV's path "+
		"(the CSV grew since) here is b.csv.report.csv: --resume --report b.csv.report.csv)")
	require.EqualValues(t, 3, sim.Sim.Stats().Calls, "nobody called twice")

	res = runBin(t, dir, env, "", append(args, "--report", "b.csv.report.csv")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.EqualValues(t, 5, sim.Sim.Stats().Calls, "the two lines added, no one else")

	// The path's list replaced (the Kubernetes Job's next campaign: a new ConfigMap, a new
	// --report): another campaign, which starts.
	writeLines(t, csv, "username", "sg-new-1", "sg-new-2")
	res = runBin(t, dir, env, "", append(args, "--report", "next.csv")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.EqualValues(t, 7, sim.Sim.Stats().Calls, "the new list's two users")
}

// A pool campaign's mistyped --report under --start-if-missing: the report beside it was
// made from the same pool id (a pool has no digest: its id is its input), refused.
func TestStartIfMissingTypoRefusedForAPool(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, false, []string{"sp-1", "sp-2"}, nil)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	args := []string{"run", "--user-pool-id", p.ID, "--resume", "--start-if-missing"}
	res := runBin(t, dir, env, "", append(args, "--report", "pool.csv")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.EqualValues(t, 2, sim.Sim.Stats().Op("ResendConfirmationCode").Calls)
	listed := sim.Sim.Stats().Op("ListUsers").Calls
	require.NoError(t, p.SignUp(t.Context(), "sp-3", "sp-3@example.com")) // the pool changed since, as pools do

	res = runBin(t, dir, env, "", append(args, "--report", "poll.csv")...)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "cognito-resend: --start-if-missing: the report poll.csv does not exist, but the report "+
		"pool.csv beside it was made from the same user pool "+p.ID+": starting poll.csv would call its users a second time")
	require.NoFileExists(t, filepath.Join(dir, "poll.csv"))
	require.NoFileExists(t, filepath.Join(dir, "poll.csv.pool"))
	require.Equal(t, listed, sim.Sim.Stats().Op("ListUsers").Calls, "refused before any listing")
	require.EqualValues(t, 2, sim.Sim.Stats().Op("ResendConfirmationCode").Calls)

	res = runBin(t, dir, env, "", append(args, "--report", "pool.csv")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.EqualValues(t, 2, sim.Sim.Stats().Op("ResendConfirmationCode").Calls, "the campaign continues from its snapshot: nobody twice")
}

// A run on standard input stopped by its input (a bad byte, lines that are not the
// report's) is not continued by the same command: the summary says what does, and that
// works.
func TestStoppedByInputSaysWhatContinues(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	var lines strings.Builder // the bad byte far past the first read, which would refuse it at the start
	for i := range 2000 {
		fmt.Fprintf(&lines, "sc-%04d\n", i)
	}
	res := runBin(t, dir, env, "username\n"+lines.String()+"sc-\x00x\nsc-y\n", "run", "--csv", "-", "--report", "r.csv", "--rate", "1000", "--burst", "100", "--workers", "16")
	require.Equal(t, 3, res.code, res.stderr)
	require.Contains(t, res.stderr, "summary: stopped: rows not in the report were not attempted; the input stops being "+
		"text at the line the error names, and would stop the same command there again: fix that line (save the file as "+
		"UTF-8 text), then run with the fixed input and --resume --report r.csv (the lines before it have their rows and are skipped)")
	require.NotContains(t, res.stderr, "the same command with --resume")

	// The advice works: fixed, resumed, the lines before are not called again.
	res = runBin(t, dir, env, "username\n"+lines.String()+"sc-x\nsc-y\n", "run", "--csv", "-", "--resume", "--report", "r.csv", "--rate", "1000", "--burst", "100", "--workers", "16")
	require.Equal(t, 0, res.code, res.stderr)
	st := sim.Sim.Stats()
	require.Equal(t, int64(2002), st.Calls)
	for _, u := range []string{"sc-0000", "sc-1999", "sc-x", "sc-y"} {
		require.Equal(t, int64(1), st.PerUser[u].Calls, u)
	}

	res = runBin(t, dir, env, "username\nsc-0000\nsc-9\n", "run", "--csv", "-", "--resume", "--report", "r.csv")
	require.Equal(t, 3, res.code, res.stderr)
	require.Contains(t, res.stderr, "summary: stopped: rows not in the report were not attempted; this input is not "+
		"the CSV the report was made from, and would stop the same command again: run with the report's own CSV and "+
		"--resume --report r.csv (to add users, put the new or fixed lines at the END of that CSV)")
	require.NotContains(t, res.stderr, "the same command with --resume")
	require.Zero(t, sim.Sim.Stats().PerUser["sc-9"].Calls)
}
