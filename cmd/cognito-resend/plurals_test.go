package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Trial 4, finding 11: a campaign of one user said "1 rows", "1 Cognito attempts", and
// report users "1 users" (one rule now: words.Count).
func TestOneUserIsSingular(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte("username\nsolo\n"), 0o600))
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r.csv", "--log-format", "text")
	require.Equal(t, 0, res.code, res.stderr)
	require.Regexp(t, `(?m)^summary: 1 row \[sent=1\] in \S+; 1 Cognito attempt, too short for a rate, 0 throttled; `, res.stderr)
	res = runBin(t, dir, env, "", "report", "users", "--status", "sent", "-o", "sent.csv", "r.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "cognito-resend: 1 user\n", res.stderr)
}
