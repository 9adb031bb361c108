package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// lockedBuffer is a bytes.Buffer safe to read while a process writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func queueWithDLQ(t *testing.T, c *sqs.Client, name string, maxReceive int) (string, string) {
	t.Helper()
	q, dlq, err := emu.CreateQueueWithDLQ(t.Context(), c, name, false, maxReceive)
	require.NoError(t, err)
	return q, dlq
}

func queueCounts(t *testing.T, c *sqs.Client, url string) (visible, notVisible int) {
	t.Helper()
	visible, notVisible, err := emu.QueueCounts(t.Context(), c, url)
	require.NoError(t, err)
	return visible, notVisible
}

func sqsEnv(cognito, sqsEndpoint, clientID string) []string {
	return append(baseEnv(cognito), "AWS_ENDPOINT_URL_SQS="+sqsEndpoint,
		"AWS_ACCESS_KEY_ID="+emu.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+emu.SecretAccessKey,
		"COGNITO_CLIENT_ID="+clientID)
}

func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

// TestQueueSIGTERMLosesNothing: enqueue a few hundred users, stop the worker with
// SIGTERM mid-run, prove every message is either deleted with a report row or visible
// again, that nobody got two codes, then drain the rest with --exit-when-empty.
func TestQueueSIGTERMLosesNothing(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	fq := emu.SQS(t)
	c := emu.NewSQSClient(fq.Endpoint)
	const n = 300
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("q-user-%03d", i)
	}
	p := newPool(t, false, users, nil)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	url, dlq := queueWithDLQ(t, c, "sigterm", 5)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"), []byte("username\n"+strings.Join(users, "\n")+"\nq-user-000\nbad name\n"), 0o600))
	env := sqsEnv(sim.URL, fq.Endpoint, p.ClientID)

	res := runBin(t, dir, env, "", "enqueue", "--csv", "users.csv", "--sqs-queue-url", url)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "enqueued=300 skipped_invalid=1 skipped_duplicate=1 failed=0")
	vis, _ := queueCounts(t, c, url)
	require.Equal(t, n, vis)

	// Worker 1: SIGTERM once some rows are in.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "run", "--sqs-queue-url", url, "--report", "r1.csv",
		"--rate", "60", "--workers", "4", "--wait-time-seconds", "1", "--visibility-timeout", "30s",
		"--metrics-addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Dir, cmd.Env = dir, env
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	r1 := filepath.Join(dir, "r1.csv")
	require.Eventually(t, func() bool { return countLines(r1) > 40 }, time.Minute, 20*time.Millisecond, stderr.String())

	// Metrics and readiness while running.
	addr := regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`).FindStringSubmatch(stderr.String())
	require.Len(t, addr, 2, stderr.String())
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr[1] + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, _ := get("/healthz")
	require.Equal(t, 200, code)
	code, _ = get("/readyz")
	require.Equal(t, 200, code)
	code, body := get("/metrics")
	require.Equal(t, 200, code)
	for _, m := range []string{`cognito_resend_jobs_total{status="sent"}`, "cognito_resend_cognito_call_duration_seconds_bucket",
		"cognito_resend_limiter_rate", "cognito_resend_sqs_messages_in_flight", `cognito_resend_sqs_requests_total{op="ReceiveMessage"}`} {
		require.Contains(t, body, m)
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "SIGTERM is a normal end in queue mode: exit 0\n%s", stderr.String())

	_, rows1 := readCSVReport(t, r1)
	require.Less(t, len(rows1), n, "stopped mid-run")
	seen := map[string]bool{}
	for _, r := range rows1 {
		require.Equal(t, "sent", r["status"], r)
		require.False(t, seen[r["username"]], "one row per user")
		seen[r["username"]] = true
	}
	vis, notVis := queueCounts(t, c, url)
	require.Equal(t, 0, notVis, "nothing left invisible: unstarted messages released")
	require.Equal(t, n-len(rows1), vis, "every message is deleted with a row or visible again")
	for u, st := range sim.Sim.Stats().PerUser {
		require.LessOrEqual(t, st.Successes, int64(1), u)
	}

	// Worker 2 drains the rest.
	res = runBin(t, dir, env, "", "run", "--sqs-queue-url", url, "--report", "r2.csv", "--rate", "200",
		"--wait-time-seconds", "1", "--exit-when-empty", "--empty-polls", "2")
	require.Equal(t, 0, res.code, res.stderr)
	_, rows2 := readCSVReport(t, filepath.Join(dir, "r2.csv"))
	for _, r := range rows2 {
		require.Equal(t, "sent", r["status"], r)
		require.False(t, seen[r["username"]], "not sent twice: %s", r["username"])
		seen[r["username"]] = true
	}
	require.Len(t, seen, n)
	st := sim.Sim.Stats()
	for _, u := range users {
		require.Equal(t, int64(1), st.PerUser[u].Successes, u)
	}
	vis, notVis = queueCounts(t, c, url)
	require.Equal(t, [2]int{0, 0}, [2]int{vis, notVis})
	vis, _ = queueCounts(t, c, dlq)
	require.Equal(t, 0, vis)
}

func TestEnqueueUsageErrors(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "noname.csv"), []byte("email,name\na@b.c,a\n"), 0o600))
	env := append(baseEnv("http://127.0.0.1:1"), "AWS_ENDPOINT_URL_SQS=http://127.0.0.1:1")
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"enqueue", "--sqs-queue-url", "http://127.0.0.1:1/0/q"}, "--csv"},
		{[]string{"enqueue", "--csv", "-"}, "--sqs-queue-url"},
		{[]string{"enqueue", "--csv", "-", "--sqs-queue-url", "q"}, "--sqs-queue-url"},
		{[]string{"enqueue", "--csv", "noname.csv", "--sqs-queue-url", "http://127.0.0.1:1/0/q"}, "username"},
	} {
		res := runBin(t, dir, env, "someone\n", tc.args...)
		require.Equal(t, 2, res.code, "%v: %s", tc.args, res.stderr)
		require.Contains(t, res.stderr, tc.wantErr)
	}
}
