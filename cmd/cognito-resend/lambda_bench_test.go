package main

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/lambdaesm"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// TestLambdaThroughputQ20 measures Lambda mode through the project's ESM (docs/lambda.md,
// "Measured"): Q = 20 execution environments at once (MaximumConcurrency), batches of
// 10, a non-race build of the binary started as bootstrap, the quota simulator far above
// the environments' rates so that the figure is the pipeline's, not Cognito's quota.
// Run on its own: COGNITO_RESEND_LAMBDA_BENCH=1 go test -run TestLambdaThroughputQ20 -v ./cmd/cognito-resend/
// (COGNITO_RESEND_LAMBDA_BENCH_Q=N: N environments and 100 × N users instead).
func TestLambdaThroughputQ20(t *testing.T) {
	if os.Getenv("COGNITO_RESEND_LAMBDA_BENCH") == "" {
		t.Skip("a measurement, not a check: set COGNITO_RESEND_LAMBDA_BENCH=1")
	}
	needIntegration(t)
	users, q := 2000, 20
	if v, err := strconv.Atoi(os.Getenv("COGNITO_RESEND_LAMBDA_BENCH_Q")); err == nil && v > 0 {
		q, users = v, 100*v // the queue depth scales with the environments: 10 batches each
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	fq := emu.SQS(t)
	sqsClient := emu.NewSQSClient(fq.Endpoint)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{Rate: 5000, Burst: 5000, LatencyFixed: 20 * time.Millisecond,
		LatencyJitter: 10 * time.Millisecond, Seed: 20})
	queue, _, arn := lambdaQueue(t, sqsClient, "lambda-bench", 10, 60*time.Second)
	names := make([]string, users)
	for i := range names {
		names[i] = fmt.Sprintf("bench-%05d", i)
	}
	dir := t.TempDir()
	writeUsers(t, dir, "users.csv", names)
	env := append(sqsEnv(sim.URL, fq.Endpoint, "client"), emu.DynamoEnv(dynamo)...)
	res := runBin(t, dir, env, "", "enqueue", "--csv", "users.csv", "--sqs-queue-url", queue)
	require.Equal(t, 0, res.code, res.stderr)

	fnEnv := append(slices.Clone(env), "COGNITO_RESEND_LEDGER_TABLE=ledger", "COGNITO_RESEND_RATE=50",
		"COGNITO_RESEND_WORKERS=8", "COGNITO_RESEND_MAX_RECEIVE_COUNT=10", "COGNITO_RESEND_LOG_LEVEL="+cmp.Or(os.Getenv("COGNITO_RESEND_LAMBDA_BENCH_LOG_LEVEL"), "warn"))
	logs := &envLogs{}
	start := time.Now()
	esm, err := lambdaesm.Start(t.Context(), lambdaesm.Config{
		SQS: sqsClient, QueueURL: queue, QueueARN: arn, FunctionName: "bench",
		Timeout: 30 * time.Second, BatchSize: 10, MaxConcurrency: q,
		Command: func(int) *exec.Cmd {
			c := exec.Command(bin)
			c.Dir, c.Env, c.Stderr = t.TempDir(), slices.Clone(fnEnv), logs.add()
			return c
		},
	})
	require.NoError(t, err)
	t.Cleanup(esm.Close)
	deadline := time.Now().Add(5 * time.Minute)
	for sim.Sim.Stats().Successes < int64(users) {
		require.True(t, time.Now().Before(deadline), "not drained: %+v\n%s", esm.Stats(), logs)
		time.Sleep(20 * time.Millisecond) // polling other processes' progress
	}
	took := time.Since(start)
	st := esm.Stats()
	esm.Close()
	if os.Getenv("COGNITO_RESEND_LAMBDA_BENCH_LOG_LEVEL") != "" {
		t.Logf("the first environment's log:\n%s", logs.bufs[0].String())
	}
	cold := st.ColdStarts
	sort.Slice(cold, func(i, j int) bool { return cold[i] < cold[j] })
	t.Logf("Q=%d: %d users sent in %s = %.1f users/s (from the ESM's start, cold starts included); %d invocations, "+
		"%d whole-batch failures, %d item failures; cold start (process start → first /next) min %s median %s max %s over %d",
		q, users, took.Round(time.Millisecond), float64(users)/took.Seconds(), st.Invocations, st.WholeFailures, st.ItemFailures,
		cold[0].Round(time.Millisecond), cold[len(cold)/2].Round(time.Millisecond), cold[len(cold)-1].Round(time.Millisecond), len(cold))
}
