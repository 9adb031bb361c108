package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Process tests of issue 22 point 2: a file given as --csv that is not a CSV of
// usernames is refused (exit 2) before any call, saying what it looks like; Cognito's
// own export header (cognito:username) is a username column.
func TestInputThatIsNotACSVIsRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	many := strings.Repeat("nc-user\n", 5000) // the bad byte is far past the first read
	for name, c := range map[string]struct{ body, want string }{
		"users.json":   {"[\n  \"nc-ann\",\n  \"nc-bob\"\n]\n", "looks like JSON: its first character is '['"},
		"report.jsonl": {`{"username":"nc-ann","status":"failed"}` + "\n", "looks like JSON: its first character is '{'"},
		"nul.csv":      {"username\n" + many + "nc-\x00bob\n", "holds a NUL byte (line 5002,"},
		"latin1.csv":   {"username\n" + many + "jos\xe9\n", "is not UTF-8 (line 5002,"},
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(c.body), 0o600))
		for _, args := range [][]string{{"--dry-run"}, {"--report", "r-" + name + ".csv"}} {
			res := runBin(t, dir, env, "", append([]string{"run", "--csv", name}, args...)...)
			require.Equal(t, 2, res.code, "%s %v: %s", name, args, res.stderr)
			require.Contains(t, res.stderr, "--csv "+name+": not a CSV of usernames: ", name)
			require.Contains(t, res.stderr, c.want, name)
			require.NoFileExists(t, filepath.Join(dir, "r-"+name+".csv"))
		}
	}
	require.Zero(t, sim.Sim.Stats().Calls, "nothing was called")

	// Standard input can't be read twice: checked as it is read, the run stops at the
	// bad byte; the lines before it were called.
	res := runBin(t, dir, env, "username\n"+many+"nc-\x00bob\n", "run", "--csv", "-", "--report", "stdin.csv")
	require.Equal(t, 3, res.code, res.stderr)
	require.Contains(t, res.stderr, "holds a NUL byte (line 5002,")
	require.Equal(t, int64(1), sim.Sim.Stats().Calls, "nc-user once; its 4999 repeats are duplicates")

	// Cognito's user export: its username column is cognito:username.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "export.csv"), []byte(
		"name,given_name,email,email_verified,cognito:mfa_enabled,cognito:username\n"+
			"Ann,Ann,ann@example.com,false,false,nc-ann\nBob,Bob,bob@example.com,false,false,nc-bob\n"), 0o600))
	res = runBin(t, dir, env, "", "run", "--csv", "export.csv", "--report", "export-r.csv")
	require.Equal(t, 0, res.code, res.stderr)
	st := sim.Sim.Stats()
	require.Equal(t, int64(1+2), st.Calls)
	require.Equal(t, int64(1), st.PerUser["nc-ann"].Calls)
	require.Equal(t, int64(1), st.PerUser["nc-bob"].Calls)
}
