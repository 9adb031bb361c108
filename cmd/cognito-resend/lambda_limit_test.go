package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/lambdaesm"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// A limit_exceeded user's message is put off until its due time (--limit-exceeded-delay,
// 1 h) before it is reported as a batch item failure: it does not come back every
// visibility timeout (2 s here) and so does not burn its receives into the DLQ (3 here)
// before Cognito's hour is up.
func TestLambdaLimitExceededIsPutOff(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	fq := emu.SQS(t)
	sqsClient := emu.NewSQSClient(fq.Endpoint)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{Rate: 50, Burst: 50, Inject: map[string]quotasim.InjectedError{
		"lim-user": {Type: "LimitExceededException", Message: "Attempt limit exceeded, please try after some time."}}})
	const visibility = 2 * time.Second
	queue, dlq, arn := lambdaQueue(t, sqsClient, "lambda-limit", 3, visibility)
	users := []string{"lim-user", "ok-1", "ok-2", "ok-3"}
	dir := t.TempDir()
	writeUsers(t, dir, "users.csv", users)
	env := append(sqsEnv(sim.URL, fq.Endpoint, "client"), emu.DynamoEnv(dynamo)...)
	res := runBin(t, dir, env, "", "enqueue", "--csv", "users.csv", "--sqs-queue-url", queue)
	require.Equal(t, 0, res.code, res.stderr)

	fnEnv := append(slices.Clone(env), "COGNITO_RESEND_LEDGER_TABLE=ledger", "COGNITO_RESEND_RATE=20",
		"COGNITO_RESEND_CALL_TIMEOUT=2s", "COGNITO_RESEND_MAX_RECEIVE_COUNT=3")
	boot := bootstrapOf(t)
	logs := &envLogs{}
	esm, err := lambdaesm.Start(t.Context(), lambdaesm.Config{
		SQS: sqsClient, QueueURL: queue, QueueARN: arn, FunctionName: lambdaFunction,
		Timeout: 10 * time.Second, BatchSize: 10, Window: 300 * time.Millisecond, MaxConcurrency: 1,
		Command: func(int) *exec.Cmd {
			c := exec.Command(boot)
			c.Dir, c.Env, c.Stderr = t.TempDir(), slices.Clone(fnEnv), logs.add()
			return c
		},
	})
	require.NoError(t, err)
	t.Cleanup(esm.Close)

	// Every message delivered and answered once: the three sent, lim-user a batch item failure.
	deadline := time.Now().Add(time.Minute)
	for esm.Stats().Messages < len(users) || esm.Stats().Responses+esm.Stats().WholeFailures < 1 {
		require.True(t, time.Now().Before(deadline), "stats %+v\n%s", esm.Stats(), logs)
		time.Sleep(50 * time.Millisecond) // polling the ESM's progress
	}
	// Five visibility timeouts: without the put-off, lim-user would have come back every
	// 2 s and reached the DLQ after its third receive.
	time.Sleep(5 * visibility)
	stats := esm.Stats()
	require.Equal(t, len(users), stats.Messages, "no message was delivered again: %+v\n%s", stats, logs)
	require.Equal(t, 1, stats.ItemFailures, "%+v", stats)
	vis, inFlight := queueCounts(t, sqsClient, queue)
	require.Equal(t, [2]int{0, 1}, [2]int{vis, inFlight}, "lim-user's message is in the queue, invisible")
	dv, dn := queueCounts(t, sqsClient, dlq)
	require.Zero(t, dv+dn, "nothing in the DLQ")
	require.EqualValues(t, 1, sim.Sim.Stats().PerUser["lim-user"].Calls, "one call of lim-user's")
	all := logs.full()
	require.Contains(t, all, `"batch_item":"failure","reason":"limit_exceeded","receive_count":1,"visible_in":3600,"username":"lim-user"`, all)
	for _, u := range users[1:] {
		require.EqualValues(t, 1, sim.Sim.Stats().PerUser[u].Successes, u)
	}
	require.False(t, strings.Contains(all, "could not put"), all)
	t.Logf("ESM %+v; %s", stats, fmt.Sprint(vis, inFlight))
}

// full is every environment's whole stderr.
func (l *envLogs) full() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, buf := range l.bufs {
		b.WriteString(buf.String())
	}
	return b.String()
}

// A spent daily budget in Lambda mode: the users over the budget wait for the next window
// — their messages invisible until it opens — instead of coming back every visibility
// timeout into the DLQ; the budget is the table's counter, shared by every environment.
func TestLambdaDailyBudgetPutsOffToTheNextWindow(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	fq := emu.SQS(t)
	sqsClient := emu.NewSQSClient(fq.Endpoint)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{Rate: 50, Burst: 50})
	const visibility = 2 * time.Second
	queue, dlq, arn := lambdaQueue(t, sqsClient, "lambda-budget", 3, visibility)
	users := []string{"b-1", "b-2", "b-3", "b-4", "b-5"}
	dir := t.TempDir()
	writeUsers(t, dir, "users.csv", users)
	env := append(sqsEnv(sim.URL, fq.Endpoint, "client"), emu.DynamoEnv(dynamo)...)
	res := runBin(t, dir, env, "", "enqueue", "--csv", "users.csv", "--sqs-queue-url", queue)
	require.Equal(t, 0, res.code, res.stderr)

	fnEnv := append(slices.Clone(env), "COGNITO_RESEND_LEDGER_TABLE=ledger", "COGNITO_RESEND_RATE=20",
		"COGNITO_RESEND_CALL_TIMEOUT=2s", "COGNITO_RESEND_MAX_RECEIVE_COUNT=3", "COGNITO_RESEND_DAILY_BUDGET=2")
	boot := bootstrapOf(t)
	logs := &envLogs{}
	esm, err := lambdaesm.Start(t.Context(), lambdaesm.Config{
		SQS: sqsClient, QueueURL: queue, QueueARN: arn, FunctionName: lambdaFunction,
		Timeout: 10 * time.Second, BatchSize: 10, Window: 300 * time.Millisecond, MaxConcurrency: 2,
		Command: func(int) *exec.Cmd {
			c := exec.Command(boot)
			c.Dir, c.Env, c.Stderr = t.TempDir(), slices.Clone(fnEnv), logs.add()
			return c
		},
	})
	require.NoError(t, err)
	t.Cleanup(esm.Close)

	deadline := time.Now().Add(time.Minute)
	for esm.Stats().Messages < len(users) || esm.Stats().ItemFailures < len(users)-2 {
		require.True(t, time.Now().Before(deadline), "stats %+v\n%s", esm.Stats(), logs)
		time.Sleep(50 * time.Millisecond) // polling the ESM's progress
	}
	time.Sleep(5 * visibility) // without the put-off: back every 2 s, in the DLQ after 3 receives
	stats := esm.Stats()
	all := logs.full()
	require.Equal(t, len(users), stats.Messages, "no message was delivered again: %+v\n%s", stats, all)
	vis, inFlight := queueCounts(t, sqsClient, queue)
	require.Equal(t, [2]int{0, len(users) - 2}, [2]int{vis, inFlight}, "the users over the budget wait in the queue")
	dv, dn := queueCounts(t, sqsClient, dlq)
	require.Zero(t, dv+dn, "nothing in the DLQ")
	require.EqualValues(t, 2, sim.Sim.Stats().Successes, "the budget: 2 sends")
	// Put off until the next window (00:00 UTC by default), at most SQS's 12 h since the
	// receipt (less the ESM's longest batching window and a minute to spare).
	now := time.Now().UTC()
	untilNext := min(time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC).Sub(now),
		12*time.Hour-6*time.Minute)
	n := 0
	for line := range strings.SplitSeq(all, "\n") {
		if !strings.Contains(line, `"reason":"budget_spent"`) {
			continue
		}
		n++
		var m struct {
			VisibleIn int `json:"visible_in"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		require.InDelta(t, untilNext.Seconds(), float64(m.VisibleIn), 90, line)
	}
	require.Equal(t, len(users)-2, n, all)
	require.NotContains(t, all, "could not put")
}
