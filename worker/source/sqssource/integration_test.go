package sqssource_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
	"github.com/cognito-resend/cognito-resend/worker/source/enqueue"
	"github.com/cognito-resend/cognito-resend/worker/source/sqssource"
)

// Integration tests: SQSSource in the real engine against fauxqs and cognito-local
// (one of each, shared by the tests; every test has its own queues and pool).

var (
	sqEmuOnce        sync.Once
	sqCognito, sqSQS *emu.Server
	sqEmuErr         error
	sqQueueSeq       atomic.Int64
)

func sqEmulators(t *testing.T) (cognitoURL string, sqsClient *sqs.Client) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test (needs cognito-local and fauxqs); run without -short")
	}
	sqEmuOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// Not closed by the test: the emulators exit when the test process does.
		if sqCognito, sqEmuErr = emu.StartCognito(ctx); sqEmuErr != nil {
			return
		}
		sqSQS, sqEmuErr = emu.StartSQS(ctx)
	})
	require.NoError(t, sqEmuErr)
	return sqCognito.Endpoint, emu.NewSQSClient(sqSQS.Endpoint)
}

func sqQueues(t *testing.T, c *sqs.Client, fifo bool, maxReceive int) (string, string) {
	t.Helper()
	name := fmt.Sprintf("q%d-%d", time.Now().UnixNano()%1e9, sqQueueSeq.Add(1))
	q, dlq, err := emu.CreateQueueWithDLQ(t.Context(), c, name, fifo, maxReceive)
	require.NoError(t, err)
	return q, dlq
}

func sqSendBodies(t *testing.T, c *sqs.Client, url string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		_, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)})
		require.NoError(t, err)
	}
}

// sqCounts is the queue's ApproximateNumberOfMessages and ...NotVisible.
func sqCounts(t *testing.T, c *sqs.Client, url string) (visible, notVisible int) {
	t.Helper()
	visible, notVisible, err := emu.QueueCounts(t.Context(), c, url)
	require.NoError(t, err)
	return visible, notVisible
}

func sqDrainBodies(t *testing.T, c *sqs.Client, url string) []string {
	t.Helper()
	var out []string
	for {
		r, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
		require.NoError(t, err)
		if len(r.Messages) == 0 {
			return out
		}
		for _, m := range r.Messages {
			out = append(out, aws.ToString(m.Body))
		}
	}
}

// sqMemReport is an in-memory engine.Report.
type sqMemReport struct {
	mu   sync.Mutex
	rows []job.Result
}

func (r *sqMemReport) Write(res job.Result) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, res)
	return nil
}
func (r *sqMemReport) Sync() error  { return nil }
func (r *sqMemReport) Close() error { return nil }
func (r *sqMemReport) all() []job.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]job.Result(nil), r.rows...)
}

type sqRig struct {
	src    *sqssource.Source
	report *sqMemReport
	engine *engine.Engine
}

func sqNewRig(t *testing.T, cognitoEndpoint, clientID string, api sqssource.SQSAPI, cfg sqssource.Config, maxAttempts int) *sqRig {
	t.Helper()
	cfg.API = api
	if cfg.VisibilityTimeout == 0 {
		cfg.VisibilityTimeout = 10 * time.Second
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 8
	}
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = time.Second
	}
	cfg.FlushInterval = 100 * time.Millisecond
	if cfg.Clock == nil {
		cfg.Clock = clock.Real() // the emulators' time
	}
	src, err := sqssource.New(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close(context.Background()) })
	lim := pacing.NewLimiter(pacing.LimiterConfig{Rate: 200, Burst: 10, Clock: cfg.Clock})
	rep := &sqMemReport{}
	eng := &engine.Engine{
		Source: src,
		Processor: &cognito.Resender{
			API:      emu.NewCognitoClient(cognitoEndpoint, func(o *cip.Options) { o.Retryer = aws.NopRetryer{} }),
			ClientID: clientID, Limiter: lim, Retry: pacing.Policy{Attempts: maxAttempts, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}, CallTimeout: 20 * time.Second,
			Clock: cfg.Clock,
		},
		Report:  rep,
		Workers: 4,
		Clock:   cfg.Clock,
	}
	return &sqRig{src: src, report: rep, engine: eng}
}

func sqPool(t *testing.T, cognitoURL string, unconfirmed, confirmed []string) *emu.Pool {
	t.Helper()
	p, err := emu.NewPool(t.Context(), cognitoURL, emu.PoolOptions{})
	require.NoError(t, err)
	for _, u := range append(append([]string{}, unconfirmed...), confirmed...) {
		require.NoError(t, p.SignUp(t.Context(), u, u+"@example.com"))
	}
	for _, u := range confirmed {
		require.NoError(t, p.Confirm(t.Context(), u))
	}
	return p
}

func byName(rows []job.Result) map[string][]job.Result {
	m := map[string][]job.Result{}
	for _, r := range rows {
		m[r.Username] = append(m[r.Username], r)
	}
	return m
}

func TestSQSIntegrationMixedBodies(t *testing.T) {
	t.Parallel()
	cognitoURL, c := sqEmulators(t)
	p := sqPool(t, cognitoURL, []string{"ann", "bob", "cat"}, []string{"dan"})
	url, dlq := sqQueues(t, c, false, 3)
	poison1 := `{"username": "trunc`
	poison2 := snsWrap(snsWrap("ann"))
	sqSendBodies(t, c, url,
		"ann",
		`{"username":"bob","clientMetadata":{"campaign":"spring"}}`,
		snsWrap(`{"username":"cat"}`),
		snsWrap("dan"),
		"nobody",
		`{"username":"bad name"}`,
		"ANN",
		poison1, poison2,
	)
	rig := sqNewRig(t, cognitoURL, p.ClientID, c, sqssource.Config{QueueURL: url, WaitTimeSeconds: 1,
		ExitWhenEmpty: true, EmptyPolls: 2, MaxInFlight: 1}, 3)
	require.Equal(t, dlq, rig.src.DLQURL())
	sum, err := rig.engine.Run(t.Context(), t.Context())
	require.NoError(t, err)
	require.NoError(t, rig.src.Close(t.Context()))
	require.Equal(t, 9, sum.Rows)

	u := byName(rig.report.all())
	for _, n := range []string{"ann", "bob", "cat"} {
		require.Len(t, u[n], 1, n)
		require.Equal(t, job.StatusSent, u[n][0].Status, n)
	}
	require.Equal(t, job.StatusAlreadyConfirmed, u["dan"][0].Status)
	require.Equal(t, job.StatusUserNotFound, u["nobody"][0].Status)
	require.Equal(t, job.StatusInvalidInput, u["bad name"][0].Status)
	require.Equal(t, job.StatusDuplicate, u["ANN"][0].Status)
	require.Len(t, u[""], 2, "two poison rows")
	for _, r := range u[""] {
		require.Equal(t, job.StatusInvalidInput, r.Status)
		require.NotEmpty(t, r.SourceRef, "message id as source_ref")
		require.Contains(t, r.ErrorMessage, "poison")
	}

	vis, inv := sqCounts(t, c, url)
	require.Equal(t, [2]int{0, 0}, [2]int{vis, inv}, "every message deleted")
	require.ElementsMatch(t, []string{poison1, poison2, `{"username":"bad name"}`}, sqDrainBodies(t, c, dlq),
		"every message that can't yield a call in the DLQ, unchanged")
}

func TestSQSIntegrationSlowJobNotDeliveredTwice(t *testing.T) {
	t.Parallel()
	cognitoURL, c := sqEmulators(t)
	p := sqPool(t, cognitoURL, []string{"slow1", "slow2"}, nil)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL, LatencyFixed: 4 * time.Second})
	url, _ := sqQueues(t, c, false, 5)
	sqSendBodies(t, c, url, "slow1", "slow2")
	// Visibility 2 s, each call takes 4 s: only the heartbeat keeps them invisible.
	rig := sqNewRig(t, sim.URL, p.ClientID, c, sqssource.Config{QueueURL: url, WaitTimeSeconds: 1,
		VisibilityTimeout: 2 * time.Second, HeartbeatInterval: 200 * time.Millisecond,
		ExitWhenEmpty: true, EmptyPolls: 2}, 1)
	sum, err := rig.engine.Run(t.Context(), t.Context())
	require.NoError(t, err)
	require.NoError(t, rig.src.Close(t.Context()))
	require.Equal(t, 2, sum.Rows, "no redelivery, so no duplicate row")
	st := sim.Sim.Stats()
	require.Equal(t, int64(1), st.PerUser["slow1"].Calls)
	require.Equal(t, int64(1), st.PerUser["slow2"].Calls)
	vis, inv := sqCounts(t, c, url)
	require.Equal(t, 0, vis+inv)
}

func TestSQSIntegrationThrottleExhaustionThenDLQ(t *testing.T) {
	t.Parallel()
	cognitoURL, c := sqEmulators(t)
	p := sqPool(t, cognitoURL, []string{"thr"}, nil)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL,
		InjectAll: &quotasim.InjectedError{Type: "TooManyRequestsException", Message: "Too many requests"}})
	url, dlq := sqQueues(t, c, false, 3)
	sqSendBodies(t, c, url, "thr")
	rig := sqNewRig(t, sim.URL, p.ClientID, c, sqssource.Config{QueueURL: url, WaitTimeSeconds: 1, RetryDelay: time.Second}, 2)
	stop, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = rig.engine.Run(stop, t.Context())
	}()
	require.Eventually(t, func() bool {
		v, _ := sqCounts(t, c, dlq)
		return v == 1
	}, 30*time.Second, 100*time.Millisecond, "after maxReceiveCount receives SQS moves it to the DLQ")
	cancel()
	<-done
	require.NoError(t, rig.src.Close(t.Context()))

	rows := rig.report.all()
	require.Len(t, rows, 3, "one failed row per receive")
	for _, r := range rows {
		require.Equal(t, job.StatusFailed, r.Status)
		require.Equal(t, "TooManyRequestsException", r.ErrorCode)
		require.Equal(t, 2, r.Attempts)
	}
	gap1 := rows[1].StartedAt.Sub(rows[0].FinishedAt)
	gap2 := rows[2].StartedAt.Sub(rows[1].FinishedAt)
	require.GreaterOrEqual(t, gap1, 900*time.Millisecond, "first backoff: --retry-delay")
	require.GreaterOrEqual(t, gap2, 1900*time.Millisecond, "second backoff doubles")
	require.Equal(t, int64(6), sim.Sim.Stats().PerUser["thr"].Calls)
	vis, inv := sqCounts(t, c, url)
	require.Equal(t, 0, vis+inv)
	require.Equal(t, []string{"thr"}, sqDrainBodies(t, c, dlq))
}

// sqFlakyDeletes wraps the real client: the first DeleteMessageBatch answers every
// entry with a transient per-entry failure (nothing deleted).
type sqFlakyDeletes struct {
	*sqs.Client
	calls atomic.Int64
}

func (f *sqFlakyDeletes) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, o ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	if f.calls.Add(1) == 1 {
		out := &sqs.DeleteMessageBatchOutput{}
		for _, e := range in.Entries {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), SenderFault: false})
		}
		return out, nil
	}
	return f.Client.DeleteMessageBatch(ctx, in, o...)
}

func TestSQSIntegrationDeleteEntryFailuresRetried(t *testing.T) {
	t.Parallel()
	cognitoURL, c := sqEmulators(t)
	users := []string{"d1", "d2", "d3", "d4", "d5"}
	p := sqPool(t, cognitoURL, users, nil)
	url, _ := sqQueues(t, c, false, 3)
	sqSendBodies(t, c, url, users...)
	api := &sqFlakyDeletes{Client: c}
	rig := sqNewRig(t, cognitoURL, p.ClientID, api, sqssource.Config{QueueURL: url, WaitTimeSeconds: 1,
		ExitWhenEmpty: true, EmptyPolls: 2}, 2)
	sum, err := rig.engine.Run(t.Context(), t.Context())
	require.NoError(t, err)
	require.NoError(t, rig.src.Close(t.Context()))
	require.Equal(t, 5, sum.Counts[job.StatusSent])
	require.GreaterOrEqual(t, api.calls.Load(), int64(2), "failed entries were sent again")
	vis, inv := sqCounts(t, c, url)
	require.Equal(t, 0, vis+inv, "every message deleted in the end")
}

func TestSQSIntegrationFIFOWithProducer(t *testing.T) {
	t.Parallel()
	cognitoURL, c := sqEmulators(t)
	users := []string{"f1", "f2", "f3"}
	p := sqPool(t, cognitoURL, users, nil)
	url, _ := sqQueues(t, c, true, 3)
	csvIn := "username,client_metadata.src\nf1,a\nf2,b\nF1,c\nf3,d\nbad name,e\n"
	for range 2 { // the second run adds nothing: same MessageDeduplicationId
		src, err := csvsource.New(stringsReader(csvIn), csvsource.Options{})
		require.NoError(t, err)
		sum, err := enqueue.Enqueue(t.Context(), enqueue.Config{API: c, QueueURL: url, Clock: clock.Real()}, src, nil)
		require.NoError(t, err)
		require.Equal(t, enqueue.Summary{Enqueued: 3, Invalid: 1, Duplicate: 1}, sum)
	}
	vis, _ := sqCounts(t, c, url)
	require.Equal(t, 3, vis, "deduplicated by the FIFO queue")
	rig := sqNewRig(t, cognitoURL, p.ClientID, c, sqssource.Config{QueueURL: url, WaitTimeSeconds: 1,
		ExitWhenEmpty: true, EmptyPolls: 2}, 2)
	sum, err := rig.engine.Run(t.Context(), t.Context())
	require.NoError(t, err)
	require.NoError(t, rig.src.Close(t.Context()))
	require.Equal(t, 3, sum.Counts[job.StatusSent])
	vis, inv := sqCounts(t, c, url)
	require.Equal(t, 0, vis+inv)
	_, err = rig.src.Next(t.Context())
	require.ErrorIs(t, err, io.EOF)
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
