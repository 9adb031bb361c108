package main

import (
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

// Trial 4, finding 11: a resumed campaign's dry run said "rows read: 8" of a CSV of 11
// lines, 3 of them unknown: it counted only the lines still to process. It says how many
// lines the report settles besides, the unknown ones among them.
func TestResumeDryRunCountsSkippedLines(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 40 * time.Second}) // calls that stay in flight
	dir := t.TempDir()
	csvPath, _ := writeUsersCSV(t, dir, 6)
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	args := []string{"run", "--csv", csvPath, "--report", "r.csv", "--rate", "40", "--workers", "3", "--call-timeout", "60s"}
	cmd := exec.Command(binPath, args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool { return sim.Sim.Stats().Calls == 3 }, 30*time.Second, 5*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "press Ctrl-C again") }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	_ = cmd.Wait()
	require.Equal(t, 3, cmd.ProcessState.ExitCode(), stderr.String())

	res := runBin(t, dir, env, "", append(args, "--resume", "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	t.Log(res.stdout)
	require.Contains(t, res.stdout, "rows read:   3, and 3 lines skipped (settled by the report: a row, or an intent with no row (unknown))\n")
	require.Contains(t, res.stdout, "to send:     3\n")
	require.Contains(t, res.stdout, "unknown:     3 written `unknown`")
}
