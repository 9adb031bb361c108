package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// dummyCreds lets the SDK sign ListUsers for cognito-local, which checks no signature.
var dummyCreds = []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test"}

func TestPoolCampaign(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, false, []string{"p1", "p2", "p3"}, []string{"p4"})
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)

	// Dry run: lists the pool, makes no resend call.
	res := runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--dry-run", "--rate", "10")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "rows read:   3")
	require.Contains(t, res.stdout, "to send:     3")
	require.Equal(t, int64(0), sim.Sim.Stats().Calls, "dry run made a ResendConfirmationCode call")

	// A window that excludes everyone created so far.
	res = runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--dry-run", "--created-before", "2000-01-01T00:00:00Z")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "to send:     0")

	res = runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--report", "pool.csv", "--created-after", "1h")
	require.Equal(t, 0, res.code, res.stderr)
	_, rows := readCSVReport(t, filepath.Join(dir, "pool.csv"))
	got := map[string]string{}
	for _, r := range rows {
		got[r["username"]] = r["status"]
		require.Equal(t, r["username"], r["source_ref"])
	}
	require.Equal(t, map[string]string{"p1": "sent", "p2": "sent", "p3": "sent"}, got, "confirmed p4 is not listed")

	// Resume of a finished pool campaign: users with a row are skipped, nobody is called.
	before := sim.Sim.Stats().Calls
	res = runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--report", "pool.csv", "--resume")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, before, sim.Sim.Stats().Calls)
	_, rows = readCSVReport(t, filepath.Join(dir, "pool.csv"))
	require.Len(t, rows, 3)
}

func TestPoolNeedsCredentials(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, false, []string{"q1"}, nil)
	env := append(baseEnv(cognitoURL), "COGNITO_CLIENT_ID="+p.ClientID) // no credentials at all
	res := runBin(t, t.TempDir(), env, "", "run", "--user-pool-id", p.ID)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "cognito-idp:ListUsers")
}

func TestCSVDryRunMakesNoCall(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	res := runBin(t, dir, env, "username\na\nb\nA\nbad name\nc\n", "run", "--csv", "-", "--dry-run", "--rate", "2")
	require.Equal(t, 0, res.code, res.stderr)
	for _, want := range []string{"rows read:   5", "to send:     3", "invalid:     1", "duplicates:  1", "ETA:         2s at 2/s"} {
		require.Contains(t, res.stdout, want)
	}
	require.Equal(t, int64(0), sim.Sim.Stats().Calls)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "a dry run writes no report")
}

func TestQueueDryRunExplains(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	res := runBin(t, t.TempDir(), append(baseEnv("http://127.0.0.1:1"), "COGNITO_CLIENT_ID=c"), "",
		"run", "--sqs-queue-url", "http://127.0.0.1:1/000000000000/q", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "receives nothing")
}

// runOnPTY runs the binary with a real terminal on stdin/stdout/stderr, types answer
// at the prompt, and returns everything the terminal showed.
func runOnPTY(t *testing.T, dir string, env []string, answer string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Dir, cmd.Env = dir, env
	f, err := pty.Start(cmd)
	require.NoError(t, err)
	defer f.Close()
	out := &lockedBuffer{}
	done := make(chan struct{})
	go func() { _, _ = io.Copy(out, f); close(done) }()
	// Type the answer once the prompt is up (bounded wait on the terminal's output).
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Continue? [y/N]") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling another process's terminal output
	}
	_, err = f.Write([]byte(answer + "\n"))
	require.NoError(t, err)
	_ = cmd.Wait()
	f.Close()
	<-done
	return cmd.ProcessState.ExitCode(), out.String()
}

func TestConfirmationPrompt(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte("username\na\nb\nb\n"), 0o600))
	var env []string
	for _, e := range baseEnv(sim.URL) {
		if !strings.HasPrefix(e, "COGNITO_RESEND_YES=") {
			env = append(env, e)
		}
	}
	env = append(env, "COGNITO_CLIENT_ID=c", "TERM=dumb")

	t.Run("no", func(t *testing.T) {
		code, out := runOnPTY(t, dir, env, "n", "run", "--csv", "u.csv", "--report", "no.csv", "--rate", "4")
		require.Equal(t, 2, code, out)
		require.Contains(t, out, "About to resend confirmation codes to 2 users at 4/s (about 1s). Continue? [y/N]")
		require.Contains(t, out, "nothing was sent")
		require.Equal(t, int64(0), sim.Sim.Stats().Calls)
	})
	t.Run("yes", func(t *testing.T) {
		code, out := runOnPTY(t, dir, env, "y", "run", "--csv", "u.csv", "--report", "yes.csv", "--rate", "4")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "resending", "a progress bar on a terminal")
		require.NotContains(t, out, `"msg":"progress"`, "never both bar and log lines")
		require.Equal(t, int64(2), sim.Sim.Stats().Successes)
		_, rows := readCSVReport(t, filepath.Join(dir, "yes.csv"))
		require.Len(t, rows, 3)
	})
	t.Run("no terminal", func(t *testing.T) {
		res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "none.csv")
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, "--yes")
		_, err := os.Stat(filepath.Join(dir, "none.csv"))
		require.ErrorIs(t, err, os.ErrNotExist)
	})
}

// "n" at a pool campaign's prompt exits 2, "nothing was sent", and leaves no file: the
// trial found no.csv.pool (the pool's usernames) behind, against README's "a run that
// exits 2 leaves no file behind".
func TestPoolPromptDeclinedLeavesNoFile(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, false, []string{"pd1", "pd2"}, nil)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	var env []string
	for _, e := range append(baseEnv(sim.URL), dummyCreds...) {
		if !strings.HasPrefix(e, "COGNITO_RESEND_YES=") {
			env = append(env, e)
		}
	}
	env = append(env, "COGNITO_CLIENT_ID="+p.ClientID, "TERM=dumb")
	code, out := runOnPTY(t, dir, env, "n", "run", "--user-pool-id", p.ID, "--report", "no.csv", "--rate", "4")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "not confirmed; nothing was sent")
	require.Zero(t, sim.Sim.Stats().Calls)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Empty(t, names, "exit 2 leaves no file behind")
}

func TestConfigPrecedenceAndPrint(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte("client-id: from-file\nrate: 7\nworkers: 3\nburst: 2\nmetadata:\n  team: ops\n"), 0o600))
	env := append(baseEnv("http://127.0.0.1:1"), "COGNITO_RESEND_WORKERS=5", "COGNITO_RESEND_BURST=4", "COGNITO_CLIENT_SECRET=hunter2-secret")
	res := runBin(t, dir, env, "", "config", "print", "--config", cfgFile, "--csv", "x.csv", "--burst", "9")
	require.Equal(t, 0, res.code, res.stderr)
	for _, want := range []string{"client-id: from-file", "rate: 7", "workers: 5", "burst: 9", "team: ops", "client secret: set ([REDACTED])"} {
		require.Contains(t, res.stdout, want, "file < env < flags")
	}
	require.NotContains(t, res.stdout, "hunter2-secret")

	require.NoError(t, os.WriteFile(cfgFile, []byte("client-id: x\nratee: 7\n"), 0o600))
	res = runBin(t, dir, env, "", "run", "--config", cfgFile, "--csv", "x.csv")
	require.Equal(t, 2, res.code)
	require.Contains(t, res.stderr, "ratee", "an unknown key is named")

	require.NoError(t, os.WriteFile(cfgFile, []byte("client-secret: inline\n"), 0o600))
	res = runBin(t, dir, env, "", "config", "print", "--config", cfgFile)
	require.Equal(t, 2, res.code, "the secret can't come from the config file")
	require.Contains(t, res.stderr, "client-secret")
}

func TestVersion(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	res := runBin(t, t.TempDir(), baseEnv("http://127.0.0.1:1"), "", "version")
	require.Equal(t, 0, res.code)
	require.Contains(t, res.stdout, "cognito-resend ")
	require.Regexp(t, `(?m)^commit: \S+\ndate: \S+$`, res.stdout) // stamped values: build/release tests
	require.Contains(t, res.stdout, "go: go1.")
}

func TestProgressLogWithoutTerminal(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 20 * time.Millisecond})
	dir := t.TempDir()
	var in strings.Builder
	for i := range 30 {
		fmt.Fprintf(&in, "pu%02d\n", i)
	}
	res := runBin(t, dir, append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c"), in.String(),
		"run", "--csv", "-", "--report", "r.csv", "--rate", "20", "--progress-interval", "300ms", "--log-format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	lines := 0
	for _, l := range strings.Split(res.stderr, "\n") {
		if strings.Contains(l, `"msg":"progress"`) {
			lines++
			require.Contains(t, l, `"done":`)
			require.Contains(t, l, `"limiter_rate":`)
		}
	}
	require.GreaterOrEqual(t, lines, 2, "a progress line every 300ms over a 1.5 s campaign:\n%s", res.stderr)
	require.NotContains(t, res.stderr, "resending", "no bar without a terminal")
	report, err := os.ReadFile(filepath.Join(dir, "r.csv"))
	require.NoError(t, err)
	require.NotContains(t, string(report), "progress")
}

// Trial 4, finding 3: Ctrl-C at the prompt ends it at once, exit 2 like any answer but
// y, and leaves no file (the lock, the pool's snapshot): the prompt kept waiting after
// the first Ctrl-C, the second one exited 3 and left r.csv.lock (and r.csv.pool) behind,
// and a y typed after the first one started the campaign only to stop it.
func TestCtrlCAtThePromptEndsIt(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, false, []string{"cc1", "cc2"}, nil)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	var env []string
	for _, e := range append(baseEnv(sim.URL), dummyCreds...) {
		if !strings.HasPrefix(e, "COGNITO_RESEND_YES=") {
			env = append(env, e)
		}
	}
	env = append(env, "COGNITO_CLIENT_ID="+p.ClientID, "TERM=dumb")
	for name, source := range map[string][]string{"csv": {"--csv", "u.csv"}, "pool": {"--user-pool-id", p.ID}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte("username\ncc1\ncc2\n"), 0o600))
			cmd := exec.Command(binPath, append([]string{"run", "--report", "r.csv", "--rate", "4"}, source...)...)
			cmd.Dir, cmd.Env = dir, env
			f, err := pty.Start(cmd)
			require.NoError(t, err)
			defer f.Close()
			out := &lockedBuffer{}
			copied := make(chan struct{})
			go func() { _, _ = io.Copy(out, f); close(copied) }()
			exited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(exited) }()
			require.Eventually(t, func() bool { return strings.Contains(out.String(), "Continue? [y/N]") },
				30*time.Second, 5*time.Millisecond, "no prompt: %s", out.String())
			_, err = f.Write([]byte{0x03}) // Ctrl-C: the terminal sends SIGINT
			require.NoError(t, err)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
				t.Fatalf("one Ctrl-C did not end the prompt: %s", out.String())
			}
			f.Close()
			<-copied
			require.Equal(t, 2, cmd.ProcessState.ExitCode(), out.String())
			require.Contains(t, out.String(), "cognito-resend: not confirmed (interrupted); nothing was sent")
			require.NotContains(t, out.String(), "second signal")
			require.Zero(t, sim.Sim.Stats().Calls)
			require.Empty(t, files(t, dir, "u.csv"), "no lock, no pool snapshot, no report")
		})
	}
}
