package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// build builds cognito-resend and lambdademo into a temporary directory.
func build(t *testing.T) (cognitoResend, demo string) {
	t.Helper()
	dir := t.TempDir()
	cognitoResend, demo = filepath.Join(dir, "cognito-resend"), filepath.Join(dir, "lambdademo")
	for _, b := range [][2]string{{cognitoResend, "../../../cmd/cognito-resend"}, {demo, "."}} {
		out, err := exec.Command("go", "build", "-o", b[0], b[1]).CombinedOutput()
		require.NoError(t, err, "go build %s: %s", b[1], out)
	}
	return cognitoResend, demo
}

// TestLambdaDemo runs what `make lambda-demo` runs and reads its output as the operator
// does: every environment's summary, a drained queue, the table's report.
func TestLambdaDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts every emulator")
	}
	t.Parallel()
	bin, demo := build(t)
	cmd := exec.Command(demo, "--bin", bin, "--users", "12", "--confirm", "2", "--envs", "2", "--dir", t.TempDir(),
		"--drain-timeout", "90s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	out := stdout.String()
	t.Logf("lambda-demo output:\n%s", out)

	require.Contains(t, out, "enqueued=13 skipped_invalid=0 skipped_duplicate=0 failed=0")
	// Every message ended in an ok line, counted per environment: 10 sent, 2 already
	// confirmed, 1 user_not_found over the two environments.
	counts := map[string]int{}
	envLine := regexp.MustCompile(`^environment (\d+): (\d+) process\(es\), (\d+) batches; message lines: (.*)$`)
	envs := 0
	for line := range strings.SplitSeq(out, "\n") {
		m := envLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		envs++
		if m[4] == "" {
			continue
		}
		for part := range strings.SplitSeq(m[4], ", ") {
			n, k, _ := strings.Cut(part, " ")
			c, err := strconv.Atoi(n)
			require.NoError(t, err, line)
			counts[k] += c
		}
	}
	require.Equal(t, 2, envs, out)
	require.Equal(t, map[string]int{"ok sent": 10, "ok already_confirmed": 2, "ok user_not_found": 1}, counts, out)
	require.Contains(t, out, "queue drained: true")
	require.Contains(t, out, "DLQ: 0 messages")
	require.Contains(t, out, "quota simulator: 13 ResendConfirmationCode calls answered (10 sent a code, 3 Cognito errors")
	require.Contains(t, out, "13 users of campaign lambda:cognito-resend (sent 10, already_confirmed 2, user_not_found 1)")
	require.Regexp(t, `(?m)^sent +10 `, out)
	require.Regexp(t, `(?m)^already_confirmed +2 `, out)
	require.Regexp(t, `(?m)^user_not_found +1 `, out)
	require.Contains(t, stderr.String(), "lambdademo: stopped")
	require.NotContains(t, out+stderr.String(), "ClientSecret")
}

// Ctrl-C mid-drain stops the environments' processes and the emulators.
func TestLambdaDemoCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts every emulator")
	}
	t.Parallel()
	bin, demo := build(t)
	// 40 users at 1/s in each of 2 environments: about 20 s of draining to interrupt.
	cmd := exec.Command(demo, "--bin", bin, "--users", "40", "--confirm", "0", "--envs", "2", "--rate", "1", "--dir", t.TempDir())
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	draining := make(chan struct{})
	exited := make(chan error, 1)
	var all bytes.Buffer // the whole stdout, read once exited has answered
	stdoutAll := func() []byte { return all.Bytes() }
	go func() {
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if !seen && strings.Contains(sc.Text(), "Lambda environments") {
				seen = true
				close(draining)
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case <-draining:
	case err := <-exited:
		t.Fatalf("exited before draining: %v\n%s", err, &stderr)
	case <-time.After(2 * time.Minute):
		t.Fatalf("never started the environments:\n%s", &stderr)
	}
	// Both environments' bootstrap processes are up beside the three emulators.
	var children []int
	deadline := time.Now().Add(30 * time.Second)
	for {
		children = childPIDs(t, cmd.Process.Pid)
		if len(children) >= 5 {
			break
		}
		require.True(t, time.Now().Before(deadline), "children %v", children)
		time.Sleep(50 * time.Millisecond) // waiting for another process to start its children
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-exited:
		require.Error(t, err, "interrupted: exit 1")
	case <-time.After(30 * time.Second):
		t.Fatalf("did not stop on SIGINT:\n%s", &stderr)
	}
	require.Contains(t, stderr.String(), "lambdademo: interrupted")
	require.Regexp(t, `== interrupted after .*: \d+ ResendConfirmationCode calls answered so far \(\d+ sent a code\)`, string(stdoutAll()))
	for _, pid := range children {
		_, err := os.Stat("/proc/" + strconv.Itoa(pid))
		require.ErrorIs(t, err, os.ErrNotExist, "child %d outlived lambdademo", pid)
	}
}

// childPIDs lists the processes whose parent is pid.
func childPIDs(t *testing.T, pid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at the last ')'.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

// A cold start that fails (here --rate 0) stops the demo at once with each
// environment's init error, exports nothing, and leaves no temporary directory behind;
// a size out of range names the value.
func TestLambdaDemoInitError(t *testing.T) {
	if testing.Short() {
		t.Skip("starts every emulator")
	}
	t.Parallel()
	bin, demo := build(t)
	tmp := t.TempDir()
	cmd := exec.Command(demo, "--bin", bin, "--users", "4", "--confirm", "0", "--envs", "2", "--rate", "0", "--drain-timeout", "2m")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := stdout.String()
	t.Logf("stdout:\n%s\nstderr:\n%s", out, &stderr)
	require.Error(t, err)
	require.Contains(t, out, "init error (posted to the Runtime API): --rate: must be a finite number > 0")
	require.Regexp(t, `(?m)^  ERROR init failed: --rate: must be a finite number > 0`, out, "the environment's own line")
	require.Contains(t, stderr.String(), "nothing was sent; stopped at once")
	require.NotContains(t, out, "ledger export", "nothing to export")
	require.NotContains(t, out, "queue drained: true")
	left, _ := filepath.Glob(filepath.Join(tmp, "cognito-resend-lambda-demo-*"))
	require.Empty(t, left, "the temporary directory is removed")

	cmd = exec.Command(demo, "--bin", bin, "--users", "0")
	o, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(o), "lambdademo: --users 0: want 1 to 999")
}

// A --dir that already holds lambda.csv (a demo run before) stops the demo at once: its
// ledger export never overwrites, and used to fail only after minutes of demo.
func TestLambdaDemoReusedDir(t *testing.T) {
	bin, demo := build(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lambda.csv"), []byte("kept\n"), 0o600))
	start := time.Now()
	o, err := exec.Command(demo, "--bin", bin, "--dir", dir).CombinedOutput()
	t.Logf("%s in %s", o, time.Since(start))
	require.Error(t, err)
	require.Contains(t, string(o), "lambdademo: --dir "+dir+" already holds lambda.csv from an earlier demo: give another --dir, or remove it")
	require.NotContains(t, string(o), "starting cognito-local", "no emulator started")
}
