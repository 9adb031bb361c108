package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Queue workers in production (issue 20, points 2, 4 and 7): the built binary against
// fauxqs, an unreachable Cognito, the quota simulator and a deleted queue.

// worker is one queue-worker process whose stderr can be read while it runs.
type worker struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
	code   int
}

func startWorker(t *testing.T, dir string, env []string, args ...string) *worker {
	t.Helper()
	w := &worker{cmd: exec.Command(binPath, args...), stderr: &lockedBuffer{}, done: make(chan struct{})}
	w.cmd.Dir, w.cmd.Env, w.cmd.Stderr = dir, env, w.stderr
	require.NoError(t, w.cmd.Start())
	go func() {
		defer close(w.done)
		err := w.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			w.code = ee.ExitCode()
		}
	}()
	t.Cleanup(func() { _ = w.cmd.Process.Kill(); <-w.done })
	return w
}

// waitSent waits (bounded) until the simulator has counted n sends.
func (w *worker) waitSent(t *testing.T, sim *quotasim.Server, n int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for sim.Sim.Stats().Successes < n {
		if time.Now().After(deadline) || w.exitedWithin(5*time.Millisecond) {
			t.Fatalf("no %d sends (exited: %v, code %d):\n%s", n, w.exitedWithin(0), w.code, w.stderr.String())
		}
	}
}

// exitedWithin reports whether the process ended within d.
func (w *worker) exitedWithin(d time.Duration) bool {
	select {
	case <-w.done:
		return true
	case <-time.After(d): // wall time of the scenario: another process runs it
		return false
	}
}

// stop sends SIGTERM (if still running) and returns the exit code.
func (w *worker) stop(t *testing.T) int {
	t.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	require.True(t, w.exitedWithin(40*time.Second), "no exit after SIGTERM\n%s", w.stderr.String())
	return w.code
}

// get requests path from the worker's --metrics-addr (read from its JSON log).
func (w *worker) get(t *testing.T, path string) (int, string) {
	t.Helper()
	var addr []string
	require.Eventually(t, func() bool {
		addr = regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`).FindStringSubmatch(w.stderr.String())
		return len(addr) == 2
	}, 20*time.Second, 20*time.Millisecond, w.stderr.String())
	resp, err := http.Get("http://" + addr[1] + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// fauxQueue is a fresh fauxqs with the queue name and its DLQ (maxReceiveCount
// maxReceive): the client, both URLs and the SQS endpoint.
type fauxQueue struct {
	c             *sqs.Client
	url, dlq, sqs string
}

func newFauxQueue(t *testing.T, name string, maxReceive int) fauxQueue {
	t.Helper()
	fq := emu.SQS(t)
	c := emu.NewSQSClient(fq.Endpoint)
	url, dlq := queueWithDLQ(t, c, name, maxReceive)
	return fauxQueue{c: c, url: url, dlq: dlq, sqs: fq.Endpoint}
}

// enqueueUsers sends n users to url with `cognito-resend enqueue`.
func enqueueUsers(t *testing.T, dir string, env []string, url, prefix string, n int) []string {
	t.Helper()
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, prefix+".csv"), []byte("username\n"+strings.Join(users, "\n")+"\n"), 0o600))
	res := runBin(t, dir, env, "", "enqueue", "--csv", prefix+".csv", "--sqs-queue-url", url)
	require.Equal(t, 0, res.code, res.stderr)
	return users
}

// TestQueueOutageBurnsNoReceives is issue 20's point 2: 20 users on a queue with
// maxReceiveCount 3; the worker loses Cognito mid-run, then is restarted 5 times against
// the unreachable endpoint with --max-outage 3s (a crash loop, or pods rescheduled).
// Before: every restart received the messages again and all 20 ended in the DLQ with no
// call. Now the worker releases what it holds once, receives nothing while Cognito does
// not answer (not ready, loud after --max-outage, no exit), and when Cognito is back every
// user is sent exactly once and the DLQ is empty.
func TestQueueOutageBurnsNoReceives(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	q := newFauxQueue(t, "outage", 3)
	c, url := q.c, q.url
	dlq := q.dlq
	dir := t.TempDir()
	first := quotasim.StartT(t, quotasim.Config{})
	addr := strings.TrimPrefix(first.URL, "http://")
	env := sqsEnv(first.URL, q.sqs, "c")
	users := enqueueUsers(t, dir, env, url, "outage", 20)
	args := []string{"run", "--sqs-queue-url", url, "--report", "r.csv", "--wait-time-seconds", "1",
		"--visibility-timeout", "20s", "--max-outage", "3s", "--metrics-addr", "127.0.0.1:0", "--log-format", "json"}

	// Cognito answers, then goes away with messages in hand (slowly: 4 held at a time).
	w := startWorker(t, dir, env, append(args, "--rate", "2", "--workers", "2")...)
	w.waitSent(t, first, 3)
	require.NoError(t, first.Close()) // connection refused from now on
	sentBefore := first.Sim.Stats().Successes
	exited := w.exitedWithin(8 * time.Second) // past --max-outage
	_, inFlight := queueCounts(t, c, url)
	t.Logf("outage mid-run: exited by itself=%v (code %d), messages in flight 8 s later=%d", exited, w.code, inFlight)
	if !exited {
		code, body := w.get(t, "/readyz")
		t.Logf("/readyz during the outage: %d %q", code, body)
		require.Equal(t, 503, code)
		require.Contains(t, body, "not ready: not receiving: Cognito unreachable")
		code, _ = w.get(t, "/healthz")
		require.Equal(t, 200, code, "an outage is not a reason to restart the worker")
		_, metricsBody := w.get(t, "/metrics")
		require.Contains(t, metricsBody, "cognito_resend_ready 0")
		require.Contains(t, metricsBody, "cognito_resend_sqs_messages_in_flight 0")
		require.Regexp(t, `cognito_resend_cognito_outage_seconds [1-9]`, metricsBody)
		require.Contains(t, w.stderr.String(), "Cognito unreachable for longer than --max-outage")
		require.Equal(t, 0, inFlight, "the messages in hand were released")
	}
	t.Logf("first worker: exit %d", w.stop(t))
	if out := w.stderr.String(); strings.Contains(out, "summary: ") {
		require.NotContains(t, out[strings.Index(out, "summary: "):], `"level":"ERROR"`, "nothing is wrong after a clean stop")
	}

	// A crash loop against the unreachable endpoint: 5 restarts (the same report: --resume).
	var selfExits []int
	var readyz []string // of the workers still running 5 s after their start
	if exited {
		selfExits = append(selfExits, w.code)
	}
	for i := range 5 {
		// --workers 10: room for every message (--max-in-flight 2 × workers).
		w := startWorker(t, dir, env, append(args, "--resume", "--workers", "10")...)
		exited := w.exitedWithin(5 * time.Second)
		if !exited {
			code, body := w.get(t, "/readyz")
			readyz = append(readyz, fmt.Sprintf("%d %s", code, body))
		}
		code := w.stop(t)
		t.Logf("restart %d: exited by itself=%v, exit %d", i+1, exited, code)
		if exited {
			selfExits = append(selfExits, code)
		} else {
			require.Equal(t, 0, code, "SIGTERM is a queue worker's normal end\n%s", w.stderr.String())
		}
	}
	inDLQ, _ := queueCounts(t, c, dlq)
	visible, notVisible := queueCounts(t, c, url)
	t.Logf("after the outage and 5 restarts: %d in the DLQ, %d visible, %d in flight, %d sent before the outage",
		inDLQ, visible, notVisible, sentBefore)
	require.Equal(t, 0, inDLQ, "an outage moved valid users to the DLQ")
	require.Empty(t, selfExits, "exit codes of workers that ended by themselves during the outage")
	require.Len(t, readyz, 5)
	for _, r := range readyz {
		// Waiting for the first answer, or past --max-outage without one.
		require.Regexp(t, `^503 not ready: not receiving: (waiting for Cognito's first answer|Cognito unreachable: no answer from `+
			regexp.QuoteMeta(addr)+` for \d+s \(dial tcp .* connection refused\))`, r)
	}

	// Cognito is back: every user is sent exactly once, nothing in the DLQ.
	second, err := quotasim.StartAddr(t.Context(), addr, quotasim.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Close() })
	res := runBin(t, dir, env, "", "run", "--sqs-queue-url", url, "--report", "r.csv", "--resume", "--rate", "50",
		"--wait-time-seconds", "1", "--exit-when-empty", "--empty-polls", "2")
	require.Equal(t, 0, res.code, res.stderr)
	for _, u := range users {
		require.Equal(t, int64(1), first.Sim.Stats().PerUser[u].Successes+second.Sim.Stats().PerUser[u].Successes, u)
	}
	inDLQ, _ = queueCounts(t, c, dlq)
	visible, notVisible = queueCounts(t, c, url)
	require.Equal(t, [3]int{0, 0, 0}, [3]int{inDLQ, visible, notVisible})
	t.Logf("Cognito back: %d users sent once each, DLQ %d", len(users), inDLQ)
}

// TestQueueDeletedExits3 is point 4: a queue deleted under a running worker ends it with
// exit 3 and a message naming the queue within a minute.
func TestQueueDeletedExits3(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	q := newFauxQueue(t, "deleted", 3)
	c, url := q.c, q.url
	dir := t.TempDir()
	sim := quotasim.StartT(t, quotasim.Config{})
	env := sqsEnv(sim.URL, q.sqs, "c")
	enqueueUsers(t, dir, env, url, "deleted", 5)
	w := startWorker(t, dir, env, "run", "--sqs-queue-url", url, "--report", "r.csv", "--wait-time-seconds", "1",
		"--metrics-addr", "127.0.0.1:0", "--log-format", "json")
	require.Eventually(t, func() bool { return countLines(filepath.Join(dir, "r.csv")) == 6 }, 30*time.Second,
		20*time.Millisecond, w.stderr.String())
	_, err := c.DeleteQueue(t.Context(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	require.NoError(t, err)
	deleted := time.Now()
	require.True(t, w.exitedWithin(time.Minute), "still running a minute after its queue was deleted\n%s", w.stderr.String())
	took := time.Since(deleted)
	t.Logf("queue deleted: exit %d after %s; last line: %s", w.code, took.Round(time.Millisecond), lastLine(w.stderr.String()))
	require.Equal(t, 3, w.code, w.stderr.String())
	require.Contains(t, lastLine(w.stderr.String()), "cognito-resend: campaign stopped: source: sqs queue "+url+
		": the queue does not exist any more (deleted?)")
	require.NotContains(t, w.stderr.String(), "reappears when its visibility runs out")
	// The summary says what became of the messages without a row (SRE trial point 2).
	require.Contains(t, w.stderr.String(), "summary: stopped: the queue was deleted: the messages it still had went with it "+
		"and are not received again; the report has the row of every message settled before")
	require.NotContains(t, w.stderr.String(), "are received again")
}

// TestQueueSIGTERMWithFailedRowsExits0 is point 7: a queue worker stopped by SIGTERM
// exits 0 although some of its rows are `failed` (README "Exit codes": stopping is its
// normal end; the failures are in the report and the metrics).
func TestQueueSIGTERMWithFailedRowsExits0(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	q := newFauxQueue(t, "failed", 5)
	url := q.url
	dir := t.TempDir()
	sim := quotasim.StartT(t, quotasim.Config{Inject: map[string]quotasim.InjectedError{
		"failed-001": {Type: "CodeDeliveryFailureException", Message: "delivery failed"}}})
	env := sqsEnv(sim.URL, q.sqs, "c")
	enqueueUsers(t, dir, env, url, "failed", 3)
	w := startWorker(t, dir, env, "run", "--sqs-queue-url", url, "--report", "r.csv", "--wait-time-seconds", "1",
		"--log-format", "json")
	require.Eventually(t, func() bool { return countLines(filepath.Join(dir, "r.csv")) == 4 }, 30*time.Second,
		20*time.Millisecond, w.stderr.String())
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	require.Equal(t, "failed", byUser(rows)["failed-001"][0]["status"])
	require.Equal(t, 0, w.stop(t), w.stderr.String())
}

// TestQueueUnreachableTableExits3 is point 7: a --ledger-table that can't be reached at
// start is exit 3 (not a usage error), quickly, and nothing was received.
func TestQueueUnreachableTableExits3(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	q := newFauxQueue(t, "notable", 3)
	c, url := q.c, q.url
	dir := t.TempDir()
	sim := quotasim.StartT(t, quotasim.Config{})
	env := append(sqsEnv(sim.URL, q.sqs, "c"), "AWS_ENDPOINT_URL_DYNAMODB=http://"+closedPort(t))
	enqueueUsers(t, dir, env, url, "notable", 3)
	start := time.Now()
	res := runBin(t, dir, env, "", "run", "--sqs-queue-url", url, "--report", "r.csv", "--ledger-table", "resend-ledger",
		"--wait-time-seconds", "1")
	took := time.Since(start)
	t.Logf("unreachable table: exit %d after %s: %s", res.code, took.Round(time.Millisecond), lastLine(res.stderr))
	require.Equal(t, 3, res.code, res.stderr)
	require.Less(t, took, 5*time.Second)
	require.Contains(t, lastLine(res.stderr), "resend-ledger")
	visible, notVisible := queueCounts(t, c, url)
	require.Equal(t, [2]int{3, 0}, [2]int{visible, notVisible}, "nothing received")
}

// TestQueueTableOutageBurnsNoReceives is point 2 for the ledger table: the table goes
// away under a worker with messages in hand, then the worker is restarted 5 times while
// it is unreachable. The worker stops (exit 3) and releases what it holds once; each
// restart checks the table before receiving and exits 3 in seconds with nothing
// received; no message reaches the DLQ, and once the table is back nobody gets a second
// code.
func TestQueueTableOutageBurnsNoReceives(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	proxy := newFlakyProxy(t, dynamo)
	q := newFauxQueue(t, "tableoutage", 3)
	c, url := q.c, q.url
	dlq := q.dlq
	dir := t.TempDir()
	sim := quotasim.StartT(t, quotasim.Config{})
	env := append(sqsEnv(sim.URL, q.sqs, "client"), emu.DynamoEnv(proxy.addr)...)
	users := enqueueUsers(t, dir, env, url, "tableoutage", 20)
	args := []string{"run", "--sqs-queue-url", url, "--report", "r.csv", "--ledger-table", "ledger", "--ledger-lease", "9s", "--call-timeout", "2s",
		"--wait-time-seconds", "1", "--visibility-timeout", "20s", "--log-format", "json"}

	w := startWorker(t, dir, env, append(args, "--rate", "2", "--workers", "2")...)
	w.waitSent(t, sim, 3)
	proxy.set(true)
	cut := time.Now()
	require.True(t, w.exitedWithin(30*time.Second), w.stderr.String())
	t.Logf("table cut: exit %d after %s: %s", w.code, time.Since(cut).Round(time.Millisecond), lastLine(w.stderr.String()))
	require.Equal(t, 3, w.code)
	_, inFlight := queueCounts(t, c, url)
	require.Equal(t, 0, inFlight, "the messages in hand were released")

	for i := range 5 {
		start := time.Now()
		w := startWorker(t, dir, env, append(args, "--resume", "--workers", "10")...)
		require.True(t, w.exitedWithin(10*time.Second), w.stderr.String())
		t.Logf("restart %d: exit %d after %s: %s", i+1, w.code, time.Since(start).Round(time.Millisecond), lastLine(w.stderr.String()))
		require.Equal(t, 3, w.code)
		require.Contains(t, lastLine(w.stderr.String()), "campaign can't start: ledger table unreachable: ")
		_, inFlight := queueCounts(t, c, url)
		require.Equal(t, 0, inFlight, "nothing received")
	}
	inDLQ, _ := queueCounts(t, c, dlq)
	require.Equal(t, 0, inDLQ)

	// The table is back (and the leases of the claims held at the cut have run out).
	proxy.set(false)
	time.Sleep(time.Until(cut.Add(10 * time.Second))) // wall time: another process's lease
	res := runBin(t, dir, env, "", append(args, "--resume", "--rate", "50", "--exit-when-empty", "--empty-polls", "2")...)
	require.Equal(t, 0, res.code, res.stderr)
	st := sim.Sim.Stats()
	rows := statuses(t, filepath.Join(dir, "r.csv"))
	unknown := 0
	for _, u := range users {
		require.LessOrEqual(t, st.PerUser[u].Successes, int64(1), u)
		switch {
		case slices.Contains(rows[u], "sent"):
			// (Its message may come again after its outcome could not be recorded:
			// `duplicate`, no call.)
			require.Equal(t, int64(1), st.PerUser[u].Successes, u)
		case slices.Contains(rows[u], "unknown"):
			unknown++ // claimed when the table went away (issue 20 point 1: another change)
		default:
			t.Fatalf("%s: %v", u, rows[u])
		}
	}
	inDLQ, _ = queueCounts(t, c, dlq)
	visible, notVisible := queueCounts(t, c, url)
	require.Equal(t, [3]int{0, 0, 0}, [3]int{inDLQ, visible, notVisible})
	require.LessOrEqual(t, unknown, 4, "at most the jobs claimed at the cut")
	t.Logf("table back: %d users, %d sent once, %d unknown, DLQ %d", len(users), len(users)-unknown, unknown, inDLQ)
}

// A queue that can't be reached at start is exit 3 within seconds, like the table.
func TestQueueUnreachableAtStartExits3(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dir := t.TempDir()
	addr := closedPort(t)
	env := sqsEnv("http://127.0.0.1:1", "http://"+addr, "c")
	start := time.Now()
	res := runBin(t, dir, env, "", "run", "--sqs-queue-url", "http://"+addr+"/000000000000/q", "--report", "r.csv")
	took := time.Since(start)
	t.Logf("unreachable queue: exit %d after %s: %s", res.code, took.Round(time.Millisecond), lastLine(res.stderr))
	require.Equal(t, 3, res.code, res.stderr)
	require.Less(t, took, 10*time.Second)
	require.Contains(t, lastLine(res.stderr), "cognito-resend: campaign can't start: queue unreachable: ")
}

// A Cognito endpoint whose host name does not exist is a setting, not an outage: a queue
// worker exits 3 after its first probes instead of waiting, having received nothing.
func TestQueueUnresolvableHostExits3(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	const host = "nonexistent.invalid"
	_, lookupErr := net.DefaultResolver.LookupHost(t.Context(), host)
	var dnsErr *net.DNSError
	require.ErrorAs(t, lookupErr, &dnsErr)
	if !dnsErr.IsNotFound {
		t.Skipf("the resolver here answers %v, not NXDOMAIN", lookupErr)
	}
	q := newFauxQueue(t, "nxdomain", 3)
	c, url := q.c, q.url
	dir := t.TempDir()
	env := sqsEnv("http://"+host+":1", q.sqs, "c")
	enqueueUsers(t, dir, env, url, "nxdomain", 3)
	start := time.Now()
	res := runBin(t, dir, env, "", "run", "--sqs-queue-url", url, "--report", "r.csv", "--wait-time-seconds", "1")
	took := time.Since(start)
	t.Logf("unresolvable Cognito host, queue mode: exit %d after %s: %s", res.code, took.Round(time.Millisecond), lastLine(res.stderr))
	require.Equal(t, 3, res.code, res.stderr)
	require.Less(t, took, time.Minute)
	require.Contains(t, lastLine(res.stderr), "host name "+host+" does not exist")
	visible, notVisible := queueCounts(t, c, url)
	require.Equal(t, [2]int{3, 0}, [2]int{visible, notVisible}, "nothing received")
}

// TestQueueTableDeletedExits3 is point 4 for the ledger table: deleted under an idle
// worker, it ends the worker with exit 3 and a line naming the table within a minute.
func TestQueueTableDeletedExits3(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	q := newFauxQueue(t, "tabledeleted", 3)
	dir := t.TempDir()
	sim := quotasim.StartT(t, quotasim.Config{})
	env := append(sqsEnv(sim.URL, q.sqs, "client"), emu.DynamoEnv(dynamo)...)
	enqueueUsers(t, dir, env, q.url, "tabledeleted", 2)
	w := startWorker(t, dir, env, "run", "--sqs-queue-url", q.url, "--report", "r.csv", "--ledger-table", "ledger",
		"--wait-time-seconds", "1", "--log-format", "json")
	require.Eventually(t, func() bool { return countLines(filepath.Join(dir, "r.csv")) == 3 }, 30*time.Second,
		20*time.Millisecond)
	// Idle means both messages acked, which comes after their outcomes are in the table:
	// deleted before that, the error names the outcome's write, not the table.
	require.Eventually(t, func() bool {
		out, err := q.c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		return err == nil && out.Attributes["ApproximateNumberOfMessages"] == "0" &&
			out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
	}, 30*time.Second, 20*time.Millisecond, "the worker never acked its two messages")
	_, err := emu.NewDynamoClient(dynamo).DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("ledger")})
	require.NoError(t, err)
	deleted := time.Now()
	require.True(t, w.exitedWithin(time.Minute), "still running a minute after its table was deleted\n%s", w.stderr.String())
	t.Logf("table deleted under an idle worker: exit %d after %s; last line: %s", w.code,
		time.Since(deleted).Round(time.Millisecond), lastLine(w.stderr.String()))
	require.Equal(t, 3, w.code, w.stderr.String())
	require.Contains(t, lastLine(w.stderr.String()), "cognito-resend: campaign stopped: ledger table ledger can't be used any more (deleted?): ")
}
