package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// requireNoFormulaCell fails if a cell of the CSV at path starts with a character a
// spreadsheet reads as a formula (OWASP CSV injection: = + - @ tab CR).
func requireNoFormulaCell(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	for _, rec := range recs {
		for _, cell := range rec {
			require.False(t, cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])),
				"%s: cell %q of %q starts with a formula character", filepath.Base(path), cell, rec)
		}
	}
}

// Process test of issue 22's spreadsheet rule: usernames that a spreadsheet would run as
// a formula round-trip report → `report users` → `run --csv` → --resume, each call made
// with the real username, while no cell of a CSV written for people starts with a
// formula character.
func TestFormulaUsernamesRoundTripSpreadsheetSafe(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	users := []string{"@SUM(1+1)", "=HYPERLINK(\"x\")", "+1-555", "-dash", "'=quoted", "'plain-quote", "ok-user"}
	// The operator's own CSV is read as written: a leading ' there is the username's.
	var in strings.Builder
	cw := csv.NewWriter(&in)
	require.NoError(t, cw.Write([]string{"username"}))
	for _, u := range users {
		require.NoError(t, cw.Write([]string{u}))
	}
	cw.Flush()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte(in.String()), 0o600))

	res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r1.csv")
	require.Equal(t, 0, res.code, res.stderr)
	requireNoFormulaCell(t, filepath.Join(dir, "r1.csv"))
	raw, err := os.ReadFile(filepath.Join(dir, "r1.csv"))
	require.NoError(t, err)
	require.Contains(t, string(raw), "\n'@SUM(1+1),sent,")
	require.Contains(t, string(raw), "\n''=quoted,sent,")

	res = runBin(t, dir, env, "", "report", "users", "--status", "sent", "-o", "users.csv", "r1.csv")
	require.Equal(t, 0, res.code, res.stderr)
	requireNoFormulaCell(t, filepath.Join(dir, "users.csv"))
	res = runBin(t, dir, env, "", "report", "users", "--status", "sent", "r1.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.True(t, strings.HasPrefix(res.stdout, "username,final_status\n"), res.stdout)
	require.Contains(t, res.stdout, "\n'@SUM(1+1),sent\n")
	require.Contains(t, res.stdout, "\n''=quoted,sent\n")

	res = runBin(t, dir, env, "", "run", "--csv", "users.csv", "--report", "r2.csv")
	require.Equal(t, 0, res.code, res.stderr)
	requireNoFormulaCell(t, filepath.Join(dir, "r2.csv"))
	st := sim.Sim.Stats()
	require.Equal(t, int64(2*len(users)), st.Calls)
	for _, u := range users {
		require.Equal(t, int64(2), st.PerUser[u].Calls, "%q called with its real name in both campaigns", u)
	}

	// Read back exactly: resume finds every line done (and bound to the same user), the
	// report tooling names the real users.
	res = runBin(t, dir, env, "", "run", "--csv", "users.csv", "--report", "r2.csv", "--resume")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, int64(2*len(users)), sim.Sim.Stats().Calls)
	res = runBin(t, dir, env, "", "report", "summary", "r1.csv", "r2.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "7")
}
