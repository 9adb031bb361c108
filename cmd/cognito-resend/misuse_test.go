package main

import (
	"os"
	"path/filepath"
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
