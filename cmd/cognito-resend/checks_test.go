package main

import (
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Issue 22, point 3: every check that can fail before a call runs before the prompt, in
// the dry run too, and a run that exits 2 leaves no file behind.

// files lists dir's entries but the given inputs.
func files(t *testing.T, dir string, inputs ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		if !slices.Contains(inputs, e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestMetricsAddrCheckedBeforeAnyFile(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() }) // after the parallel subtests
	for name, addr := range map[string]string{"busy port": busy.Addr().String(), "no port": "localhost"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim := quotasim.StartT(t, quotasim.Config{})
			env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte("username\na\nb\n"), 0o600))
			for _, extra := range [][]string{nil, {"--dry-run"}} {
				args := append([]string{"run", "--csv", "u.csv", "--report", "r.csv", "--metrics-addr", addr}, extra...)
				res := runBin(t, dir, env, "", args...)
				require.Equal(t, 2, res.code, res.stderr)
				require.Contains(t, res.stderr, "--metrics-addr")
				require.Empty(t, files(t, dir, "u.csv"), "a run that exits 2 leaves no file behind")
			}
			require.Equal(t, int64(0), sim.Sim.Stats().Calls)
			// The corrected command runs as is: nothing to --resume.
			res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r.csv", "--metrics-addr", "127.0.0.1:0")
			require.Equal(t, 0, res.code, res.stderr)
		})
	}
}

func TestReportCheckedBeforeThePromptAndInTheDryRun(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte("username\na\nb\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "old.csv"), []byte("kept\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "l.csv.ledger"), []byte(""), 0o600))
	var env []string
	for _, e := range baseEnv(sim.URL) {
		if !strings.HasPrefix(e, "COGNITO_RESEND_YES=") {
			env = append(env, e)
		}
	}
	env = append(env, "COGNITO_CLIENT_ID=c", "TERM=dumb")

	t.Run("existing report, on a terminal: refused before the prompt", func(t *testing.T) {
		cmd := exec.Command(binPath, "run", "--csv", "u.csv", "--report", "old.csv")
		cmd.Dir, cmd.Env = dir, env
		code, out := runOnPTYNoAnswer(t, cmd)
		require.Equal(t, 2, code, out)
		require.NotContains(t, out, "Continue?")
		require.Contains(t, out, "old.csv already exists: use --resume")
	})
	for name, args := range map[string][]string{
		"existing report, dry run":   {"--report", "old.csv", "--dry-run"},
		"existing ledger, dry run":   {"--report", "l.csv", "--dry-run"},
		"missing directory, dry run": {"--report", "nodir/r.csv", "--dry-run"},
		"missing directory, --yes":   {"--report", "nodir/r.csv", "--yes"},
		"existing report, --yes":     {"--report", "old.csv", "--yes"},
	} {
		t.Run(name, func(t *testing.T) {
			res := runBin(t, dir, env, "", append([]string{"run", "--csv", "u.csv"}, args...)...)
			require.Equal(t, 2, res.code, res.stderr)
			require.Contains(t, res.stderr, "cognito-resend: --report: ")
			require.NotContains(t, res.stdout, "dry run:")
		})
	}
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes anywhere")
		}
		ro := filepath.Join(dir, "ro")
		require.NoError(t, os.Mkdir(ro, 0o500))
		res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "ro/r.csv", "--dry-run")
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, "can't create files in ro")
	})
	content, err := os.ReadFile(filepath.Join(dir, "old.csv"))
	require.NoError(t, err)
	require.Equal(t, "kept\n", string(content))
	require.ElementsMatch(t, []string{"u.csv", "old.csv", "l.csv.ledger"}, files(t, dir, "ro"))
	require.Equal(t, int64(0), sim.Sim.Stats().Calls)
}

// runOnPTYNoAnswer runs cmd on a terminal without typing anything: a refusal must come
// before any prompt (a prompt would wait, and the bounded wait fails the test).
func runOnPTYNoAnswer(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	f, err := pty.Start(cmd)
	require.NoError(t, err)
	defer f.Close()
	out := &lockedBuffer{}
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(out, f); close(copied) }()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("still running (waiting at a prompt?): %s", out.String())
	}
	f.Close()
	<-copied
	return cmd.ProcessState.ExitCode(), out.String()
}

// Issue 22, point 4: the first signal says at once what happens next; after a second
// one the summary names the users whose calls were aborted, and --resume reports exactly
// those unknown.
func TestSecondSignalNamesTheUsersInFlight(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	const workers = 8
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 40 * time.Second}) // calls that stay in flight
	dir := t.TempDir()
	csvPath, users := writeUsersCSV(t, dir, 15)
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	args := []string{"run", "--csv", csvPath, "--report", "r.csv", "--rate", "40", "--workers", "8", "--call-timeout", "60s"}
	cmd := exec.Command(binPath, args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	require.Eventually(t, func() bool { return sim.Sim.Stats().Calls == workers }, 30*time.Second, 5*time.Millisecond)
	var inFlight []string
	for u, c := range sim.Sim.Stats().PerUser {
		if c.Calls > 0 {
			inFlight = append(inFlight, u)
		}
	}
	require.Len(t, inFlight, workers)

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.Eventually(t, func() bool {
		return strings.Contains(stderr.String(), "stopping: 8 calls in flight, waiting up to 25s; press Ctrl-C again to abort them")
	}, 5*time.Second, 5*time.Millisecond, "the first signal is answered at once: %s", stderr.String())
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	_ = cmd.Wait()
	require.Equal(t, 3, cmd.ProcessState.ExitCode(), stderr.String())
	out := stderr.String()
	t.Log(out)
	require.NotContains(t, out, "not attempted (no row)")
	require.Contains(t, out, "8 users may have been sent a code but have no row (their calls were aborted): ")
	require.Contains(t, out, "stopped with 15 of 15 rows left: 8 may have been sent (above), 7 not attempted")
	named := regexp.MustCompile(`have no row \(their calls were aborted\): ([^;]+);`).FindStringSubmatch(out)
	require.Len(t, named, 2, out)
	require.ElementsMatch(t, inFlight, strings.Split(named[1], ", "))

	// --resume reports exactly those unknown and calls the others.
	require.NoError(t, sim.Sim.SetConfig(quotasim.Config{}))
	res := runBin(t, dir, env, "", append(args, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	st := statuses(t, filepath.Join(dir, "r.csv"))
	var unknown []string
	for _, u := range users {
		require.Len(t, st[u], 1, u)
		if st[u][0] == "unknown" {
			unknown = append(unknown, u)
		} else {
			require.Equal(t, "sent", st[u][0], u)
		}
	}
	require.ElementsMatch(t, inFlight, unknown)
}

// Issue 22, guard rails: --rate Inf is a usage error; --created-after takes days.
func TestRateAndCreatedGuardRails(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte("username\na\n"), 0o600))
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	for _, rate := range []string{"Inf", "NaN", "0", "-5"} {
		res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r.csv", "--rate", rate)
		require.Equal(t, 2, res.code, "--rate %s: %s", rate, res.stderr)
		require.Contains(t, res.stderr, "--rate: must be a finite number > 0", rate)
	}
	res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r.csv", "--rate", "100000", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, 1, strings.Count(res.stderr, "above UserResourceRead's default 50/s: "), res.stderr)
	require.Empty(t, files(t, dir, "u.csv"))
	require.Equal(t, int64(0), sim.Sim.Stats().Calls)
}

func TestCreatedAfterTakesDaysAndDates(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, false, []string{"d1", "d2"}, nil)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	for bound, want := range map[string]string{
		"--created-after 3d":          "to send:     2", // created just now: within the last 3 days
		"--created-before 3d":         "to send:     0",
		"--created-after 2000-01-01":  "to send:     2",
		"--created-before 2000-01-01": "to send:     0",
	} {
		args := append([]string{"run", "--user-pool-id", p.ID, "--dry-run"}, strings.Fields(bound)...)
		res := runBin(t, dir, env, "", args...)
		require.Equal(t, 0, res.code, "%s: %s", bound, res.stderr)
		require.Contains(t, res.stdout, want, bound)
	}
	require.Equal(t, int64(0), sim.Sim.Stats().Calls)
}

// `ledger show` on a table that does not exist: one clear line, not the SDK's dump.
func TestLedgerShowMissingTableOneLine(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	endpoint := newLedgerTable(t)
	res := runBin(t, t.TempDir(), ledgerEnv("http://127.0.0.1:1", endpoint), "", "ledger", "show",
		"--ledger-table", "nosuchtable", "alice")
	t.Log(res.stderr)
	require.Equal(t, 1, strings.Count(strings.TrimSpace(res.stderr), "\n")+1, res.stderr)
	require.Contains(t, res.stderr, "nosuchtable")
	require.NotContains(t, res.stderr, "RequestID")
	require.NotContains(t, res.stderr, "https response error")
}

// A mistyped --status is a usage error with a suggestion, and a file that is not a report
// is an error rather than a summary of zeros.
func TestReportCommandsRefuseWhatIsNotAReport(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dir := t.TempDir()
	header := strings.Join(wantColumnsV1, ",")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "r.csv"), []byte(header+"\n"+
		"ann,failed,3,InternalErrorException,boom,,,,,2,2026-01-01T00:00:00Z,2026-01-01T00:00:01Z\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"), []byte("username\nann\nbob\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.jsonl"), []byte("{\"a\":1}\n"), 0o600))

	res := runBin(t, dir, baseEnv(""), "", "report", "users", "--status", "faild", "r.csv")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, `--status: "faild" is not a status (did you mean failed?)`)
	require.Empty(t, res.stdout)
	res = runBin(t, dir, baseEnv(""), "", "report", "users", "--status", "failed", "r.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "username,final_status\nann,failed\n", res.stdout)

	for _, f := range []string{"users.csv", "other.jsonl"} {
		res = runBin(t, dir, baseEnv(""), "", "report", "summary", f)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, "not a cognito-resend report: "+f)
		require.Empty(t, res.stdout, "no summary of zeros")
	}
	// Beside a report, a foreign file is named and skipped.
	res = runBin(t, dir, baseEnv(""), "", "report", "summary", "r.csv", "users.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "(not a report)")
}

// Without a terminal the logs are JSON, and so are the summary's lines: stderr is one
// format, every line a JSON record (it used to end in plain "summary: …" lines).
func TestStderrIsOneFormatWithoutATerminal(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte("username\na\nb\n"), 0o600))
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r.csv", "--log-level", "warn")
	require.Equal(t, 0, res.code, res.stderr)
	var texts []string
	for line := range strings.SplitSeq(strings.TrimSpace(res.stderr), "\n") {
		var rec struct{ Level, Msg, Text string }
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "not a JSON record: %q", line)
		if rec.Msg == "summary" {
			require.Equal(t, "INFO", rec.Level)
			texts = append(texts, rec.Text)
		}
	}
	require.NotEmpty(t, texts, "the summary is there whatever --log-level says")
	require.Regexp(t, `^summary: 2 rows \[sent=2\] in \S+; 2 Cognito attempts, ([0-9.]+/s achieved|too short for a rate), 0 throttled; limiter rate now 20\.0/s$`, texts[0])
	require.Contains(t, texts, "report: r.csv")

	// --log-format text: plain lines, as on a terminal.
	res = runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "t.csv", "--log-format", "text", "--log-level", "warn")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "\nreport: t.csv\n")
}

// A --ledger-table that does not exist is found by a describe call before the prompt,
// in the dry run too, and nothing is created.
func TestLedgerTableCheckedBeforeThePrompt(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	endpoint := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte("username\na\n"), 0o600))
	env := ledgerEnv(sim.URL, endpoint)
	for _, extra := range []string{"--dry-run", "--yes"} {
		res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r.csv", "--ledger-table", "nosuchtable", extra)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, "--ledger-table: ")
		require.Contains(t, res.stderr, "nosuchtable does not exist")
		require.Empty(t, res.stdout, extra)
		require.Empty(t, files(t, dir, "u.csv"), extra)
	}
	require.Equal(t, int64(0), sim.Sim.Stats().Calls)
}

// Both secrets set: the error names where the file came from, the flag or its
// environment variable.
func TestBothSecretsNameTheirSource(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("s3cr3t-value\n"), 0o600))
	env := append(baseEnv("http://127.0.0.1:1"), "COGNITO_CLIENT_ID=c", "COGNITO_CLIENT_SECRET=other-value")
	args := []string{"run", "--csv", "u.csv", "--dry-run"}

	res := runBin(t, dir, append(env, "COGNITO_RESEND_CLIENT_SECRET_FILE="+secretFile), "", args...)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "both COGNITO_CLIENT_SECRET and COGNITO_RESEND_CLIENT_SECRET_FILE are set; use one")
	res = runBin(t, dir, env, "", append(args, "--client-secret-file", secretFile)...)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "both COGNITO_CLIENT_SECRET and --client-secret-file are set; use one")
	for _, r := range []runResult{res} {
		require.NotContains(t, r.stderr, "s3cr3t-value")
		require.NotContains(t, r.stderr, "other-value")
	}
}

// notesText is stderr with the tool's JSON notes (the summary, the stop notices, the
// exit error: JSON records when the logs are JSON) turned back into their plain lines,
// for a test that looks for what an operator reads.
func notesText(stderr string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(stderr, "\n") {
		var rec struct{ Msg, Text string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Text != "" &&
			(rec.Msg == "summary" || rec.Msg == "stopping" || rec.Msg == "error") {
			line = rec.Text
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// Trial 4, finding 11: a missing CSV was reported as "no terminal to confirm on" until
// --yes was given; the file is named first, whatever the flags, and nothing is left.
func TestMissingCSVNamedFirst(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	var env []string
	for _, e := range baseEnv(sim.URL) {
		if !strings.HasPrefix(e, "COGNITO_RESEND_YES=") {
			env = append(env, e)
		}
	}
	env = append(env, "COGNITO_CLIENT_ID=c")
	for _, extra := range [][]string{nil, {"--yes"}, {"--dry-run"}} {
		res := runBin(t, dir, env, "", append([]string{"run", "--csv", "missing.csv", "--report", "r.csv"}, extra...)...)
		require.Equal(t, 2, res.code, "%v: %s", extra, res.stderr)
		require.Equal(t, "cognito-resend: --csv: open missing.csv: no such file or directory\n", res.stderr, extra)
	}
	require.Empty(t, files(t, dir))
	require.Zero(t, sim.Sim.Stats().Calls)
}
