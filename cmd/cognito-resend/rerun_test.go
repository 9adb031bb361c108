package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// The same command twice without --report: each run would get a new default report and
// call everyone again. The second is refused before any call, naming the first's report
// and the two ways on; --resume without --report names that report too.
func TestRerunWithoutReportRefused(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	csvPath, users := writeUsersCSV(t, dir, 5)
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	args := []string{"run", "--csv", csvPath, "--yes"}
	res := runBin(t, dir, env, "", args...)
	require.Equal(t, 0, res.code, res.stderr)
	first := regexp.MustCompile(`report: (cognito-resend-report-\S+\.csv)`).FindStringSubmatch(res.stderr)
	require.NotNil(t, first, res.stderr)
	report := first[1]

	res = runBin(t, dir, env, "", args...)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "cognito-resend: --report: not given, but the report "+report+
		" was made from the same CSV (same SHA-256 digest): running again would call its users a second time. "+
		"To continue that campaign: --resume --report "+report+"; to start over on purpose (every user is called again): --report <new name>")
	// A dry run calls nobody: it counts, and warns that the run would be refused.
	res = runBin(t, dir, env, "", append(args, "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "the run would be refused: --report: not given, but the report "+report)
	require.Equal(t, 1, strings.Count(res.stderr, "the run would be refused"), "said once: %s", res.stderr)
	res = runBin(t, dir, env, "", append(args, "--resume")...)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "cognito-resend: --resume: needs --report: the report of the campaign to continue; "+
		"the report here made from this input is "+report+": --resume --report "+report)

	reports, _ := filepath.Glob(filepath.Join(dir, "cognito-resend-report-*.csv"))
	require.Len(t, reports, 1, "no second report")
	for _, u := range users {
		require.Equal(t, int64(1), sim.Sim.Stats().PerUser[u].Calls, u)
	}
	// The advice works; a new report starts over on purpose.
	res = runBin(t, dir, env, "", append(args, "--resume", "--report", report)...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(5), sim.Sim.Stats().Calls)
	res = runBin(t, dir, env, "", append(args, "--report", "again.csv")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(10), sim.Sim.Stats().Calls)
	_, err := os.Stat(filepath.Join(dir, "again.csv"))
	require.NoError(t, err)
}

// Trial 4, finding 11: --resume without --report named no report when two reports of
// the same CSV sat in the directory (a campaign started over); it names them, newest
// first, and how to continue the newest.
func TestResumeNamesSeveralReportsOfTheInput(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	csvPath, _ := writeUsersCSV(t, dir, 3)
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	for _, report := range []string{"first.csv", "second.csv"} {
		res := runBin(t, dir, env, "", "run", "--csv", csvPath, "--report", report, "--yes")
		require.Equal(t, 0, res.code, res.stderr)
	}
	calls := sim.Sim.Stats().Calls
	res := runBin(t, dir, env, "", "run", "--csv", csvPath, "--resume", "--yes")
	require.Equal(t, 2, res.code, res.stderr)
	require.Equal(t, "cognito-resend: --resume: needs --report: the report of the campaign to continue; the reports here made "+
		"from this input, newest first: second.csv, first.csv; --resume --report second.csv continues the newest\n", res.stderr)
	// A mistyped --report says the same of them.
	res = runBin(t, dir, env, "", "run", "--csv", csvPath, "--resume", "--report", "secnod-x.csv", "--yes")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "cognito-resend: --resume: the report secnod-x.csv does not exist (the reports made from "+
		"this input here, newest first: second.csv, first.csv; --resume --report second.csv continues the newest). ")
	require.Equal(t, calls, sim.Sim.Stats().Calls)
}
