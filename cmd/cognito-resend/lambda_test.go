package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/lambdaesm"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Lambda mode end to end (issue 19): the built binary, started as bootstrap, behind the
// project's own Runtime API and SQS event source mapping (testenv/lambdaesm), with
// fauxqs, dynalite and the quota simulator. Four execution environments drain one queue;
// one is SIGKILLed mid-batch, another freezes until its invocation times out (the ESM
// then ends it, as Lambda does): both batches come back whole after the visibility
// timeout, and the ledger table keeps their users from a second code.

const (
	lambdaUsers       = 600
	lambdaConcurrency = 4
	lambdaFunction    = "resend-fn"
)

// envLogs are the environments' stderr, one buffer per process started.
type envLogs struct {
	mu   sync.Mutex
	bufs []*lockedBuffer
}

func (l *envLogs) add() *lockedBuffer {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := &lockedBuffer{}
	l.bufs = append(l.bufs, b)
	return b
}

func (l *envLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for i, buf := range l.bufs {
		s := buf.String()
		if len(s) > 3000 {
			s = s[len(s)-3000:]
		}
		fmt.Fprintf(&b, "--- process %d\n%s\n", i, s)
	}
	return b.String()
}

// settled reads the environments' JSON log lines: per username, the status of the last
// "message" line whose batch item succeeded (its message was deleted).
func (l *envLogs) settled(t *testing.T) map[string]string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for _, buf := range l.bufs {
		for line := range strings.SplitSeq(buf.String(), "\n") {
			var m struct {
				Msg, BatchItem, Username, Status string
			}
			if json.Unmarshal([]byte(line), &struct {
				Msg       *string `json:"msg"`
				BatchItem *string `json:"batch_item"`
				Username  *string `json:"username"`
				Status    *string `json:"status"`
			}{&m.Msg, &m.BatchItem, &m.Username, &m.Status}) != nil {
				continue
			}
			if m.Msg == "message" && m.BatchItem == "ok" {
				out[m.Username] = m.Status
			}
		}
	}
	return out
}

// lambdaQueue is a queue whose messages go to its DLQ after maxReceive receives, with
// the given visibility timeout (the ESM receives with the queue's own), and its ARN.
func lambdaQueue(t *testing.T, c *sqs.Client, name string, maxReceive int, visibility time.Duration) (url, dlq, arn string) {
	t.Helper()
	url, dlq = queueWithDLQ(t, c, name, maxReceive)
	_, err := c.SetQueueAttributes(t.Context(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameVisibilityTimeout): fmt.Sprint(int(visibility.Seconds()))}})
	require.NoError(t, err)
	a, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	require.NoError(t, err)
	return url, dlq, a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

// bootstrapOf links the built binary under the name Lambda's provided.al2023 runs.
func bootstrapOf(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bootstrap")
	require.NoError(t, os.Symlink(binPath, p))
	return p
}

func TestLambdaEndToEndKillAndTimeout(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	start := time.Now()
	fq := emu.SQS(t)
	sqsClient := emu.NewSQSClient(fq.Endpoint)
	dynamo := newLedgerTable(t) // table "ledger"
	sim := quotasim.StartT(t, quotasim.Config{Rate: 30, Burst: 30, LatencyFixed: 20 * time.Millisecond,
		LatencyJitter: 10 * time.Millisecond, Seed: 19})
	queue, dlq, arn := lambdaQueue(t, sqsClient, "lambda-e2e", 10, 15*time.Second)

	users := make([]string, lambdaUsers)
	for i := range users {
		users[i] = fmt.Sprintf("lambda-%04d", i)
	}
	dir := t.TempDir()
	writeUsers(t, dir, "users.csv", users)
	env := append(sqsEnv(sim.URL, fq.Endpoint, "client"), emu.DynamoEnv(dynamo)...)
	res := runBin(t, dir, env, "", "enqueue", "--csv", "users.csv", "--sqs-queue-url", queue)
	require.Equal(t, 0, res.code, res.stderr)

	fnEnv := append(slices.Clone(env),
		"COGNITO_RESEND_LEDGER_TABLE=ledger", "COGNITO_RESEND_LEDGER_LEASE=8s", "COGNITO_RESEND_RATE=7",
		"COGNITO_RESEND_WORKERS=4", "COGNITO_RESEND_CALL_TIMEOUT=2s", "COGNITO_RESEND_MAX_ATTEMPTS=30",
		"COGNITO_RESEND_BACKOFF_BASE=50ms", "COGNITO_RESEND_BACKOFF_MAX=1s", "COGNITO_RESEND_MAX_RECEIVE_COUNT=10")
	boot := bootstrapOf(t)
	logs := &envLogs{}
	esm, err := lambdaesm.Start(t.Context(), lambdaesm.Config{
		SQS: sqsClient, QueueURL: queue, QueueARN: arn, FunctionName: lambdaFunction,
		Timeout: 10 * time.Second, BatchSize: 10, Window: 200 * time.Millisecond, MaxConcurrency: lambdaConcurrency,
		Command: func(int) *exec.Cmd {
			c := exec.Command(boot)
			c.Dir, c.Env, c.Stderr = t.TempDir(), slices.Clone(fnEnv), logs.add()
			return c
		},
	})
	require.NoError(t, err)
	t.Cleanup(esm.Close)

	// Mid-batch: once the simulator has counted enough sends and the environment is inside
	// an invocation.
	midBatch := func(sends int64, i int, act func() error) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for sim.Sim.Stats().Successes < sends || !esm.Env(i).InFlight() {
			require.True(t, time.Now().Before(deadline), "never %d sends with environment %d invoked:\n%s", sends, i, logs)
			time.Sleep(5 * time.Millisecond) // polling other processes' progress
		}
		time.Sleep(300 * time.Millisecond) // into the batch: calls made, others in flight
		require.NoError(t, act())
	}
	midBatch(150, 1, esm.Env(1).Kill)
	midBatch(300, 2, esm.Env(2).Freeze)

	empty := 0
	deadline := time.Now().Add(4 * time.Minute)
	for empty < 3 {
		require.True(t, time.Now().Before(deadline), "queue not drained; stats %+v\n%s", esm.Stats(), logs)
		vis, inFlight := queueCounts(t, sqsClient, queue)
		if vis+inFlight == 0 {
			empty++
		} else {
			empty = 0
		}
		time.Sleep(500 * time.Millisecond) // polling a queue other processes drain
	}
	stats := esm.Stats()
	esm.Close()
	require.GreaterOrEqual(t, stats.Crashes, 1, "%+v", stats)
	require.GreaterOrEqual(t, stats.Timeouts, 1, "%+v", stats)
	vis, inFlight := queueCounts(t, sqsClient, dlq)
	require.Equal(t, 0, vis+inFlight, "nothing in the DLQ")

	// The report, from the table.
	res = runBin(t, dir, ledgerEnv(sim.URL, dynamo), "", "ledger", "export", "--ledger-table", "ledger",
		"--campaign", "lambda:"+lambdaFunction, "--output", "lambda.csv")
	require.Equal(t, 0, res.code, res.stderr)
	t.Logf("ledger export: %s", strings.TrimSpace(res.stderr))
	rows := statuses(t, filepath.Join(dir, "lambda.csv"))
	st := sim.Sim.Stats()
	unknown, unknownUnsent := 0, 0
	for _, u := range users {
		got := st.PerUser[u].Successes
		require.LessOrEqual(t, got, int64(1), "%s was sent %d codes", u, got)
		rs := rows[u]
		require.Len(t, rs, 1, "%s: one row in the report from the table", u)
		switch rs[0] {
		case "sent":
			require.Equal(t, int64(1), got, "%s reported sent", u)
		case "unknown":
			// A claim of the killed or frozen process: its call may have reached Cognito.
			unknown++
			if got == 0 {
				unknownUnsent++
			}
		default:
			t.Fatalf("%s: a %q row", u, rs[0])
		}
	}
	// The per-message log lines: every user's message ended in a line that settled it.
	settled := logs.settled(t)
	for _, u := range users {
		require.Contains(t, []string{"sent", "recently_sent", "unknown"}, settled[u], "%s: no log line settled its message", u)
	}
	// Only a claim taken by an environment that died, between the claim and its request
	// reaching the simulator, leaves a user unsent: at most the two batches' users.
	require.LessOrEqual(t, unknown, 2*10)
	res = runBin(t, dir, env, "", "report", "summary", "lambda.csv")
	require.Equal(t, 0, res.code, res.stderr+res.stdout)
	require.Contains(t, res.stdout, fmt.Sprint(lambdaUsers-unknown), res.stdout)
	t.Logf("report summary:\n%s", res.stdout)
	res = runBin(t, dir, env, "", "report", "html", "-o", "lambda.html", "lambda.csv")
	require.Equal(t, 0, res.code, res.stderr+res.stdout)
	t.Logf("%d users, %d environments: %d unknown (%d of them never reached the simulator); ESM %+v; simulator %d calls, %d throttled; %s",
		len(users), lambdaConcurrency, unknown, unknownUnsent, stats, st.Calls, st.Throttled, time.Since(start).Round(time.Second))
}

// A bad setting fails the cold start, loudly and once: the process started as bootstrap
// inside Lambda exits 2 naming the option before it asks for an invocation, and never
// prints the client secret.
func TestLambdaBadSettingFailsTheInit(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	const secret = "never-print-this-secret-7f3a"
	env := append(baseEnv("http://127.0.0.1:1"), "COGNITO_CLIENT_ID=client", "COGNITO_CLIENT_SECRET="+secret,
		"COGNITO_RESEND_LEDGER_TABLE=ledger", "COGNITO_RESEND_RATE=0", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:1",
		"AWS_LAMBDA_FUNCTION_NAME=fn")
	cmd := exec.Command(bootstrapOf(t))
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, string(out))
	require.Equal(t, exitUsage, ee.ExitCode(), string(out))
	require.Contains(t, string(out), "--rate: must be a finite number > 0", string(out))
	require.NotContains(t, string(out), secret)

	// An option Lambda mode can't honour, set in the function's environment, fails the
	// init by name instead of being ignored.
	cmd = exec.Command(bootstrapOf(t))
	cmd.Env = append(slices.Clone(env[:len(env):len(env)]), "COGNITO_RESEND_CREATED_AFTER=3d")
	for i, kv := range cmd.Env {
		if kv == "COGNITO_RESEND_RATE=0" {
			cmd.Env[i] = "COGNITO_RESEND_RATE=5"
		}
	}
	out, err = cmd.CombinedOutput()
	require.ErrorAs(t, err, &ee, string(out))
	require.Equal(t, exitUsage, ee.ExitCode(), string(out))
	require.Contains(t, string(out), "--created-after: has no effect in Lambda mode", string(out))

	// Inside the Runtime API: the init error is posted (Lambda shows it); a message makes
	// the ESM start the environment again, which fails the same way and answers nothing.
	fq := emu.SQS(t)
	c := emu.NewSQSClient(fq.Endpoint)
	queue, _, arn := lambdaQueue(t, c, "lambda-bad-init", 5, 30*time.Second)
	esm, err := lambdaesm.Start(t.Context(), lambdaesm.Config{SQS: c, QueueURL: queue, QueueARN: arn,
		Timeout: 10 * time.Second, MaxConcurrency: 1, Command: func(int) *exec.Cmd {
			c := exec.Command(bootstrapOf(t))
			c.Env = slices.Clone(env)
			return c
		}})
	require.NoError(t, err)
	t.Cleanup(esm.Close)
	_, err = c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String("alice")})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(esm.Stats().InitErrors) >= 2 }, 30*time.Second, 20*time.Millisecond)
	st := esm.Stats()
	require.Contains(t, st.InitErrors[0], `"errorType":"Cognito-Resend.Configuration"`)
	require.Contains(t, st.InitErrors[0], "--rate: must be a finite number > 0")
	require.NotContains(t, st.InitErrors[0], secret)
	require.Zero(t, st.Responses)
}

// --fleet-rate in Lambda mode: four environments joined in the ledger table share one
// budget; the simulator, whose quota is far above it, sees the fleet rate, not four times
// --rate.
func TestLambdaFleetRate(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	const fleetRate = 12.0
	fq := emu.SQS(t)
	c := emu.NewSQSClient(fq.Endpoint)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{Rate: 500, Burst: 500, LatencyFixed: 10 * time.Millisecond, Seed: 21})
	queue, _, arn := lambdaQueue(t, c, "lambda-fleet", 10, 30*time.Second)
	users := make([]string, 400)
	for i := range users {
		users[i] = fmt.Sprintf("fleet-%04d", i)
	}
	dir := t.TempDir()
	writeUsers(t, dir, "users.csv", users)
	env := append(sqsEnv(sim.URL, fq.Endpoint, "client"), emu.DynamoEnv(dynamo)...)
	res := runBin(t, dir, env, "", "enqueue", "--csv", "users.csv", "--sqs-queue-url", queue)
	require.Equal(t, 0, res.code, res.stderr)
	fnEnv := append(slices.Clone(env), "COGNITO_RESEND_LEDGER_TABLE=ledger", "COGNITO_RESEND_FLEET_RATE=12",
		"COGNITO_RESEND_FLEET_NAME=fn", "COGNITO_RESEND_CALL_TIMEOUT=2s")
	logs := &envLogs{}
	esm, err := lambdaesm.Start(t.Context(), lambdaesm.Config{SQS: c, QueueURL: queue, QueueARN: arn, FunctionName: "fn",
		Timeout: 15 * time.Second, BatchSize: 10, MaxConcurrency: 4,
		Command: func(int) *exec.Cmd {
			cmd := exec.Command(bootstrapOf(t))
			cmd.Dir, cmd.Env, cmd.Stderr = t.TempDir(), slices.Clone(fnEnv), logs.add()
			return cmd
		}})
	require.NoError(t, err)
	t.Cleanup(esm.Close)
	require.Eventually(t, func() bool { return sim.Sim.Stats().Successes >= 40 }, time.Minute, 20*time.Millisecond, "%s", logs)
	time.Sleep(2 * time.Second) // every environment joined and at its share
	from := sim.Sim.Stats().Successes
	time.Sleep(5 * time.Second) // measuring a rate over wall time
	perSec := float64(sim.Sim.Stats().Successes-from) / 5
	t.Logf("4 environments, --fleet-rate %g: %.1f calls/s at the simulator; ESM %+v", fleetRate, perSec, esm.Stats())
	require.LessOrEqual(t, perSec, fleetRate*1.2, "the fleet stays within its budget (4 × --rate would be 80/s)")
	require.GreaterOrEqual(t, perSec, fleetRate*0.5, "the fleet uses its budget")
}

// A Runtime API that does not serve invocations (here: 404) ends the function through the
// runtime client's own fatal log line; it came out at INFO, under "lambda function
// ready". The log package's lines are the runtime client's failures: ERROR.
func TestLambdaRuntimeAPIFailureIsError(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	api := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(api.Close)
	cmd := exec.Command(bootstrapOf(t))
	cmd.Env = append(ledgerEnv("http://127.0.0.1:1", dynamo), "COGNITO_RESEND_LEDGER_TABLE=ledger",
		"AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(api.URL, "http://"), "AWS_LAMBDA_FUNCTION_NAME=fn")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, string(out))
	var fatal map[string]any
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.Contains(line, "invocation/next") {
			require.NoError(t, json.Unmarshal([]byte(line), &fatal), line)
		}
	}
	require.NotNil(t, fatal, "the runtime client's line")
	require.Equal(t, "ERROR", fatal["level"], fatal)
}
