package sqssource_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/clock/clocktest"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/metrics"
	"github.com/cognito-resend/cognito-resend/worker/source/sqssource"
)

// sqFake is an in-memory SQSAPI: it hands out queued bodies and records every call.
type sqFake struct {
	sqssource.SQSAPI // nil: a call not faked panics

	mu        sync.Mutex
	queue     []string // bodies to deliver
	recvCount map[string]int
	redrive   string
	nextID    int
	receives  []int32 // MaxNumberOfMessages asked
	delBatch  []int   // entries per DeleteMessageBatch
	deleted   []string
	vis       map[string][]int32 // receipt → visibility changes, in order
	visBatch  []int
	dlq       []string
	dlqReason []string // the cognito-resend-reason attribute of each DLQ copy
	// failDelete, when set, decides an entry's failure (code, senderFault) or "" for success.
	failDelete func(receipt string, call int) (string, bool)
	delCalls   int
	inFlight   int // received and not deleted/made visible
	maxInFl    int
	// beforeDelete and beforeVisibility, when set (before the source starts), run at the
	// start of each call, outside mu: tests block a call there.
	beforeDelete     func(*sqs.DeleteMessageBatchInput)
	beforeVisibility func(*sqs.ChangeMessageVisibilityBatchInput)
}

func newSQFake(bodies ...string) *sqFake {
	return &sqFake{queue: bodies, recvCount: map[string]int{}, vis: map[string][]int32{}}
}

func (f *sqFake) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	attrs := map[string]string{}
	if f.redrive != "" {
		attrs["RedrivePolicy"] = f.redrive
	}
	return &sqs.GetQueueAttributesOutput{Attributes: attrs}, nil
}

func (f *sqFake) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	f.receives = append(f.receives, in.MaxNumberOfMessages)
	var out []sqstypes.Message
	for len(f.queue) > 0 && len(out) < int(in.MaxNumberOfMessages) {
		body := f.queue[0]
		f.queue = f.queue[1:]
		f.nextID++
		id := "m" + strconv.Itoa(f.nextID)
		f.recvCount[body]++
		out = append(out, sqstypes.Message{MessageId: aws.String(id), ReceiptHandle: aws.String("rh-" + body),
			Body: aws.String(body), Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(f.recvCount[body])}})
	}
	f.inFlight += len(out)
	f.maxInFl = max(f.maxInFl, f.inFlight)
	f.mu.Unlock()
	if len(out) == 0 {
		// A long poll that finds nothing: wait a little (or until stopped).
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return &sqs.ReceiveMessageOutput{Messages: out}, nil
}

func (f *sqFake) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	if f.beforeDelete != nil {
		f.beforeDelete(in)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delCalls++
	f.delBatch = append(f.delBatch, len(in.Entries))
	out := &sqs.DeleteMessageBatchOutput{}
	for _, e := range in.Entries {
		if f.failDelete != nil {
			if code, sender := f.failDelete(*e.ReceiptHandle, f.delCalls); code != "" {
				out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String(code), SenderFault: sender})
				continue
			}
		}
		f.deleted = append(f.deleted, *e.ReceiptHandle)
		f.inFlight--
		out.Successful = append(out.Successful, sqstypes.DeleteMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func (f *sqFake) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	if f.beforeVisibility != nil {
		f.beforeVisibility(in)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.visBatch = append(f.visBatch, len(in.Entries))
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		f.vis[*e.ReceiptHandle] = append(f.vis[*e.ReceiptHandle], e.VisibilityTimeout)
		out.Successful = append(out.Successful, sqstypes.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func (f *sqFake) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dlq = append(f.dlq, *in.MessageBody)
	f.dlqReason = append(f.dlqReason, aws.ToString(in.MessageAttributes["cognito-resend-reason"].StringValue))
	return &sqs.SendMessageOutput{}, nil
}

func (f *sqFake) snapshot(fn func(f *sqFake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func sqSource(t *testing.T, f sqssource.SQSAPI, mod func(*sqssource.Config)) *sqssource.Source {
	t.Helper()
	cfg := sqssource.Config{API: f, QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
		WaitTimeSeconds: 1, VisibilityTimeout: 30 * time.Second, MaxInFlight: 4, EmptyPolls: 1,
		RetryDelay: 10 * time.Second, LimitExceededDelay: time.Hour, FlushInterval: time.Hour, Clock: clock.Real()}
	if mod != nil {
		mod(&cfg)
	}
	s, err := sqssource.New(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// sqNext takes the next job within 10 s. Next's ctx is the test's: the first call's ctx
// governs receiving (it stops when that ctx ends), as the engine's dispatch context does.
func sqNext(t *testing.T, s *sqssource.Source) job.Job {
	t.Helper()
	type got struct {
		j   job.Job
		err error
	}
	c := make(chan got, 1)
	go func() {
		j, err := s.Next(t.Context())
		c <- got{j, err}
	}()
	select {
	case g := <-c:
		require.NoError(t, g.err)
		return g.j
	case <-time.After(10 * time.Second):
		t.Fatal("no job within 10 s")
		return job.Job{}
	}
}

// sqWithin receives from c, failing the test after 10 s.
func sqWithin[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("not within 10 s: %s", what)
		var zero T
		return zero
	}
}

func TestSQSDeleteBatchesOfTenFlushedOnSize(t *testing.T) {
	t.Parallel()
	var bodies []string
	for i := range 25 {
		bodies = append(bodies, fmt.Sprintf("user%02d", i))
	}
	f := newSQFake(bodies...)
	s := sqSource(t, f, func(c *sqssource.Config) { c.MaxInFlight = 30 })
	for range 25 {
		j := sqNext(t, s)
		require.NoError(t, j.Ack(t.Context(), job.Result{Status: job.StatusSent}))
	}
	// FlushInterval is an hour: only full batches went out so far.
	require.Eventually(t, func() bool {
		n := 0
		f.snapshot(func(f *sqFake) { n = len(f.deleted) })
		return n == 20
	}, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, s.Flush(t.Context()))
	f.snapshot(func(f *sqFake) {
		require.Equal(t, []int{10, 10, 5}, f.delBatch)
		require.Len(t, f.deleted, 25)
		for _, n := range f.receives {
			require.LessOrEqual(t, n, int32(10))
		}
	})
}

func TestSQSDeleteFlushedWithinInterval(t *testing.T) {
	t.Parallel()
	f := newSQFake("alice")
	s := sqSource(t, f, func(c *sqssource.Config) { c.FlushInterval = 50 * time.Millisecond })
	j := sqNext(t, s)
	require.Equal(t, "alice", j.Username)
	require.NoError(t, j.Ack(t.Context(), job.Result{Status: job.StatusAlreadyConfirmed}))
	require.Eventually(t, func() bool {
		n := 0
		f.snapshot(func(f *sqFake) { n = len(f.deleted) })
		return n == 1
	}, 5*time.Second, 5*time.Millisecond, "a lone delete goes out within the flush interval")
	require.Eventually(t, func() bool { return s.InFlight() == 0 }, 5*time.Second, 5*time.Millisecond)
}

func TestSQSDeleteEntryFailures(t *testing.T) {
	t.Parallel()
	f := newSQFake("transient", "gone", "rejected", "fine")
	f.failDelete = func(rh string, call int) (string, bool) {
		switch {
		case rh == "rh-transient" && call == 1:
			return "InternalError", false // retried
		case rh == "rh-gone":
			return "ReceiptHandleIsInvalid", true // logged, not retried, not fatal
		case rh == "rh-rejected":
			return "AccessDenied", true
		}
		return "", false
	}
	s := sqSource(t, f, func(c *sqssource.Config) { c.MaxInFlight = 4; c.Metrics = metrics.New() })
	for range 4 {
		j := sqNext(t, s)
		require.NoError(t, j.Ack(t.Context(), job.Result{Status: job.StatusSent}))
	}
	require.NoError(t, s.Flush(t.Context()))
	f.snapshot(func(f *sqFake) {
		require.ElementsMatch(t, []string{"rh-fine", "rh-transient"}, f.deleted)
		require.Equal(t, 2, f.delCalls, "one retry call for the transient entry")
	})
	require.Equal(t, 0, s.InFlight(), "every entry is settled one way or the other")
}

func TestSQSInFlightBound(t *testing.T) {
	t.Parallel()
	var bodies []string
	for i := range 20 {
		bodies = append(bodies, fmt.Sprintf("u%d", i))
	}
	f := newSQFake(bodies...)
	s := sqSource(t, f, func(c *sqssource.Config) { c.MaxInFlight = 3 })
	var held []job.Job
	for range 3 {
		held = append(held, sqNext(t, s))
	}
	// The receive loop can't take more until something settles.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	_, err := s.Next(ctx)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	f.snapshot(func(f *sqFake) { require.LessOrEqual(t, f.maxInFl, 3) })
	require.Equal(t, 3, s.InFlight())
	for _, j := range held {
		require.NoError(t, j.Release(t.Context()))
	}
	require.NoError(t, s.Flush(t.Context()))
	f.snapshot(func(f *sqFake) {
		for _, j := range held {
			_ = j
		}
		n := 0
		for _, v := range f.vis {
			require.Equal(t, []int32{0}, v, "Release makes the message visible at once")
			n++
		}
		require.Equal(t, 3, n)
	})
}

func TestSQSAckOutcomes(t *testing.T) {
	t.Parallel()
	f := newSQFake("retry1", "limited", "peruser", "dup")
	f.redrive = `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:q-dlq","maxReceiveCount":"5"}`
	s := sqSource(t, f, nil)
	require.Equal(t, "https://sqs.us-east-1.amazonaws.com/123456789012/q-dlq", s.DLQURL())
	results := map[string]job.Result{
		"retry1":  {Status: job.StatusFailed, Class: job.ClassRetryable},
		"limited": {Status: job.StatusLimitExceeded, Class: job.ClassPerUser},
		"peruser": {Status: job.StatusFailed, Class: job.ClassPerUser},
		"dup":     {Status: job.StatusDuplicate},
	}
	for range 4 {
		j := sqNext(t, s)
		require.NoError(t, j.Ack(t.Context(), results[j.Username]))
	}
	require.NoError(t, s.Flush(t.Context()))
	f.snapshot(func(f *sqFake) {
		require.Equal(t, []int32{10}, f.vis["rh-retry1"], "first receive: --retry-delay")
		require.Equal(t, []int32{3600}, f.vis["rh-limited"], "limit_exceeded: an hour")
		require.ElementsMatch(t, []string{"rh-peruser", "rh-dup"}, f.deleted)
		require.Empty(t, f.dlq)
	})
	// Backoff doubles per receive, capped under SQS's 12 h.
	require.Equal(t, int32(10), s.BackoffSeconds(1))
	require.Equal(t, int32(20), s.BackoffSeconds(2))
	require.Equal(t, int32(80), s.BackoffSeconds(4))
	require.LessOrEqual(t, s.BackoffSeconds(40), int32(12*3600))
	require.Greater(t, s.BackoffSeconds(40), int32(11*3600))
}

// A job whose user another owner holds (a Busy claim) comes back once that owner's
// lease ends: its visibility is set to the wait, rounded up to whole seconds; a job
// deferred after its settling is not touched again.
func TestSQSDeferSetsVisibilityToTheWait(t *testing.T) {
	t.Parallel()
	f := newSQFake("held")
	s := sqSource(t, f, nil)
	j := sqNext(t, s)
	require.NoError(t, j.Defer(t.Context(), 7250*time.Millisecond))
	require.NoError(t, j.Defer(t.Context(), time.Minute), "no-op once settled")
	require.NoError(t, s.Flush(t.Context()))
	f.snapshot(func(f *sqFake) {
		require.Equal(t, []int32{8}, f.vis["rh-held"])
		require.Empty(t, f.deleted)
	})
	require.Zero(t, s.InFlight(), "a deferred message frees its slot")
}

func TestSQSRetryBackoffGrowsWithReceiveCount(t *testing.T) {
	t.Parallel()
	f := newSQFake("again", "again", "again")
	s := sqSource(t, f, func(c *sqssource.Config) { c.MaxInFlight = 1 })
	for range 3 {
		j := sqNext(t, s)
		require.NoError(t, j.Ack(t.Context(), job.Result{Status: job.StatusFailed, Class: job.ClassRetryable}))
		require.NoError(t, s.Flush(t.Context()))
	}
	f.snapshot(func(f *sqFake) { require.Equal(t, []int32{10, 20, 40}, f.vis["rh-again"]) })
}

// One poison rule: every message whose row is invalid_input — a body that is not a job,
// a JSON username that is invalid or empty, one Cognito called invalid — is copied to the
// DLQ with the row's reason, then deleted; any other row only deletes it.
func TestSQSPoisonToDLQThenDelete(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{ // body → what its row is
		`{"username": 42}`:               "invalid",
		`{"username":"bad name"}`:        "invalid",
		`{"username": ""}`:               "invalid",
		"two words":                      "invalid",
		`{"Type":"Notification"}`:        "invalid",
		`{"username":"cognito-rejects"}`: "cognito-invalid",
		"dup":                            "duplicate",
		"ok":                             "sent",
	}
	var queue []string
	for b := range bodies {
		queue = append(queue, b)
	}
	f := newSQFake(queue...)
	f.redrive = `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:q-dlq","maxReceiveCount":3}`
	s := sqSource(t, f, func(c *sqssource.Config) { c.MaxInFlight = len(queue) })
	adm := admit.New(admit.CaseInsensitive, nil)
	wantDLQ := map[string]string{} // body → reason
	for range queue {
		j := sqNext(t, s)
		require.NotEmpty(t, j.SourceRef)
		n, err := strconv.Atoi(strings.TrimPrefix(j.SourceRef, "m")) // the fake's ids: m1, m2, … in queue order
		require.NoError(t, err)
		body := queue[n-1]
		row, send := adm.Admit(j)
		switch {
		case !send:
			require.Equal(t, "invalid", bodies[body], "%q: %+v", body, j)
			require.Equal(t, job.StatusInvalidInput, row.Status)
		case j.Username == "cognito-rejects":
			row = job.Result{Username: j.Username, Status: job.StatusInvalidInput, ErrorCode: "InvalidParameterException",
				ErrorMessage: "1 validation error detected", Attempts: 1, SourceRef: j.SourceRef}
		case j.Username == "dup":
			row = job.Result{Username: j.Username, Status: job.StatusDuplicate, ErrorMessage: admit.DuplicateMessage}
		default:
			row = job.Result{Username: j.Username, Status: job.StatusSent, Attempts: 1}
		}
		if row.Status == job.StatusInvalidInput {
			wantDLQ[body] = row.ErrorMessage
		}
		require.NoError(t, j.Ack(t.Context(), row))
	}
	require.NoError(t, s.Flush(t.Context()))
	require.Len(t, wantDLQ, 6)
	f.snapshot(func(f *sqFake) {
		got := map[string]string{}
		for i, b := range f.dlq {
			got[b] = f.dlqReason[i]
		}
		require.Equal(t, wantDLQ, got, "every invalid_input message in the DLQ, unchanged, with its row's reason")
		require.Len(t, f.deleted, len(queue), "and every message deleted")
	})
}

// Without a DLQ, a poison message is recorded and deleted.
func TestSQSPoisonWithoutDLQIsDeleted(t *testing.T) {
	t.Parallel()
	f := newSQFake(`{"username": ""}`, "two words")
	s := sqSource(t, f, nil)
	require.Empty(t, s.DLQURL())
	for range 2 {
		j := sqNext(t, s)
		row, send := admit.New(admit.CaseInsensitive, nil).Admit(j)
		require.False(t, send)
		require.NoError(t, j.Ack(t.Context(), row))
	}
	require.NoError(t, s.Flush(t.Context()))
	f.snapshot(func(f *sqFake) {
		require.Empty(t, f.dlq)
		require.Len(t, f.deleted, 2)
	})
}

func TestSQSHeartbeatExtendsOnlyUnsettled(t *testing.T) {
	t.Parallel()
	f := newSQFake("slow", "done")
	s := sqSource(t, f, func(c *sqssource.Config) {
		c.VisibilityTimeout = 3 * time.Second // extended once less than 1 s remains
		c.HeartbeatInterval = 20 * time.Millisecond
	})
	a, b := sqNext(t, s), sqNext(t, s)
	if a.Username != "slow" {
		a, b = b, a
	}
	require.NoError(t, b.Ack(t.Context(), job.Result{Status: job.StatusSent}))
	require.NoError(t, s.Flush(t.Context()))
	require.Eventually(t, func() bool {
		n := 0
		f.snapshot(func(f *sqFake) { n = len(f.vis["rh-slow"]) })
		return n >= 2
	}, 10*time.Second, 10*time.Millisecond, "the held message is extended before it expires, again and again")
	require.NoError(t, a.Ack(t.Context(), job.Result{Status: job.StatusSent}))
	require.NoError(t, s.Flush(t.Context()))
	f.snapshot(func(f *sqFake) {
		require.Empty(t, f.vis["rh-done"], "a settled message is never extended")
		for _, v := range f.vis["rh-slow"] {
			require.Equal(t, int32(3), v)
		}
		require.Contains(t, f.deleted, "rh-slow")
	})
}

func TestSQSExitWhenEmptyAndClose(t *testing.T) {
	t.Parallel()
	f := newSQFake("one", "two")
	// The clock stands still: the long poll Close cancels may wait at SQS for all of
	// WaitTimeSeconds (1 s) yet.
	s := sqSource(t, f, func(c *sqssource.Config) {
		c.ExitWhenEmpty, c.EmptyPolls, c.Clock = true, 2, clockwork.NewFakeClock()
	})
	j := sqNext(t, s)
	// "two" was received but is never handed out; Close makes it visible again once the
	// cancelled poll has ended at SQS (1 s + 1 s), so that poll can't take it.
	require.NoError(t, j.Ack(t.Context(), job.Result{Status: job.StatusSent}))
	require.NoError(t, s.Close(t.Context()))
	f.snapshot(func(f *sqFake) {
		require.Equal(t, []string{"rh-one"}, f.deleted)
		require.Equal(t, []int32{2}, f.vis["rh-two"])
	})

	f2 := newSQFake("x")
	s2 := sqSource(t, f2, func(c *sqssource.Config) {
		c.ExitWhenEmpty, c.EmptyPolls, c.FlushInterval = true, 2, 10*time.Millisecond
	})
	j = sqNext(t, s2)
	require.NoError(t, j.Ack(t.Context(), job.Result{Status: job.StatusSent}))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := s2.Next(ctx)
	require.ErrorIs(t, err, io.EOF)
}

type sqFailingReceive struct {
	sqssource.SQSAPI
	calls int
	mu    sync.Mutex
}

func (f *sqFailingReceive) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{}, nil
}

func (f *sqFailingReceive) ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return nil, errors.New("connection refused")
}

func TestSQSReceiveErrorsBackOffAndFailReadiness(t *testing.T) {
	t.Parallel()
	f := &sqFailingReceive{}
	s, err := sqssource.New(t.Context(), sqssource.Config{API: f, QueueURL: "https://q/1/q", VisibilityTimeout: 30 * time.Second, Clock: clock.Real()})
	require.NoError(t, err)
	defer s.Close(context.Background())
	require.Eventually(t, func() bool {
		e := s.Ready()
		return e != nil && len(e.Error()) > 0 && func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.calls >= 3 }()
	}, 10*time.Second, 10*time.Millisecond)
	f.mu.Lock()
	calls := f.calls
	f.mu.Unlock()
	require.Less(t, calls, 10, "failed receives back off; no hot loop")
}

// sqVisCall is one ChangeMessageVisibilityBatch call: receipt handle → visibility.
type sqVisCall map[string]int32

func sqVisEntries(in *sqs.ChangeMessageVisibilityBatchInput) sqVisCall {
	c := sqVisCall{}
	for _, e := range in.Entries {
		c[*e.ReceiptHandle] = e.VisibilityTimeout
	}
	return c
}

// sqAdvance moves the fake clock by d once waiters timers and tickers wait on it (the
// heartbeat's ticker, and the settler's timer while an entry waits to be due), failing
// the test after 10 s.
func sqAdvance(t *testing.T, clock *clockwork.FakeClock, waiters int, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, clock.BlockUntilContext(ctx, waiters), "%d waiters on the clock", waiters)
	clock.Advance(d)
}

// A DeleteMessageBatch that hangs (a slow SQS endpoint) must not hold up the heartbeat:
// the other held messages are extended before their visibility runs out, again and
// again, while the delete is still in flight.
func TestSQSSlowDeleteDoesNotStarveHeartbeat(t *testing.T) {
	t.Parallel()
	f := newSQFake("a", "b", "c")
	delStarted := make(chan struct{}, 10)
	releaseDel := make(chan struct{})
	f.beforeDelete = func(*sqs.DeleteMessageBatchInput) {
		delStarted <- struct{}{}
		<-releaseDel
	}
	visCalls := make(chan sqVisCall, 10)
	f.beforeVisibility = func(in *sqs.ChangeMessageVisibilityBatchInput) { visCalls <- sqVisEntries(in) }
	clock := newFakeClock()
	s := sqSource(t, f, func(c *sqssource.Config) {
		c.VisibilityTimeout = 60 * time.Second // extended once less than 20 s remain
		c.MaxInFlight = 3
		c.Clock = clock // the heartbeat ticks every 10 s of it
		c.FlushInterval = time.Millisecond
	})
	unblock := sync.OnceFunc(func() { close(releaseDel) })
	t.Cleanup(unblock) // before Close (cleanups run last-in first-out)

	jobs := map[string]job.Job{}
	for range 3 {
		j := sqNext(t, s)
		jobs[j.Username] = j
	}
	require.NoError(t, jobs["a"].Ack(t.Context(), job.Result{Status: job.StatusSent}))
	sqAdvance(t, clock, 2, time.Millisecond) // the ticker and the delete's flush timer
	sqWithin(t, delStarted, "the delete of a is sent")

	// The delete hangs. 45 s after the receive, 15 s of visibility remain: extend.
	for round := range 2 {
		sqAdvance(t, clock, 1, 45*time.Second)
		got := sqWithin(t, visCalls, "extension while a delete hangs")
		require.Equal(t, sqVisCall{"rh-b": 60, "rh-c": 60}, got, "round %d: the held messages, not the settled one", round)
		f.snapshot(func(f *sqFake) { require.Empty(t, f.deleted, "the delete is still in flight") })
	}
	require.Equal(t, 3, s.InFlight())

	// A settle queued behind the hung delete goes out once it returns.
	require.NoError(t, jobs["b"].Ack(t.Context(), job.Result{Status: job.StatusFailed, Class: job.ClassRetryable}))
	unblock()
	require.NoError(t, s.Flush(t.Context()))
	f.snapshot(func(f *sqFake) {
		require.Equal(t, []string{"rh-a"}, f.deleted)
		require.Empty(t, f.vis["rh-a"], "a settled message is never extended")
		require.Equal(t, []int32{60, 60, 10}, f.vis["rh-b"], "extended twice, then retry_later")
		require.Equal(t, []int32{60, 60}, f.vis["rh-c"])
	})
	require.Equal(t, 1, s.InFlight(), "c is still held")
}

// A message settled while an extension of it is in flight: its visibility change waits
// for the extension to return, so the extension can't land after it (and undo a release).
func TestSQSSettleWaitsForExtensionInFlight(t *testing.T) {
	t.Parallel()
	f := newSQFake("m", "other")
	extStarted := make(chan struct{}, 10)
	releaseExt := make(chan struct{})
	f.beforeVisibility = func(in *sqs.ChangeMessageVisibilityBatchInput) {
		if in.Entries[0].VisibilityTimeout == 60 { // the heartbeat's extension
			extStarted <- struct{}{}
			<-releaseExt
		}
	}
	clock := newFakeClock()
	s := sqSource(t, f, func(c *sqssource.Config) {
		c.VisibilityTimeout = 60 * time.Second
		c.MaxInFlight = 2
		c.Clock = clock
		c.FlushInterval = time.Millisecond
	})
	unblock := sync.OnceFunc(func() { close(releaseExt) })
	t.Cleanup(unblock)

	a, b := sqNext(t, s), sqNext(t, s)
	sqAdvance(t, clock, 1, 45*time.Second)
	sqWithin(t, extStarted, "the extension is sent")

	// Settled while the extension hangs: a release and a delete.
	require.NoError(t, a.Release(t.Context()))
	require.NoError(t, b.Ack(t.Context(), job.Result{Status: job.StatusSent}))
	flushed := make(chan error, 1)
	go func() { flushed <- s.Flush(t.Context()) }()
	select {
	case err := <-flushed:
		t.Fatalf("flushed (%v) while an extension of the same messages was in flight", err)
	case <-time.After(100 * time.Millisecond): // bounded: the flush must still be waiting
	}
	f.snapshot(func(f *sqFake) {
		require.Empty(t, f.deleted)
		require.Empty(t, f.vis, "nothing sent for a message while its extension is in flight")
	})
	unblock()
	require.NoError(t, sqWithin(t, flushed, "flush after the extension returned"))
	f.snapshot(func(f *sqFake) {
		require.Equal(t, []int32{60, 0}, f.vis["rh-"+a.Username], "the release lands after the extension")
		require.Equal(t, []string{"rh-" + b.Username}, f.deleted)
	})
	require.Equal(t, 0, s.InFlight())
}

// sqGatedReceive answers each ReceiveMessage when the test says so (or when its ctx
// ends) and reports when calls start and end.
type sqGatedReceive struct {
	*sqFake
	started chan struct{}
	ended   chan error
	replies chan []string
}

func (f *sqGatedReceive) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.started <- struct{}{}
	select {
	case bodies := <-f.replies:
		f.mu.Lock()
		f.queue = append(f.queue, bodies...)
		f.mu.Unlock()
		return f.sqFake.ReceiveMessage(ctx, in, opts...)
	case <-ctx.Done():
		f.ended <- ctx.Err()
		return nil, ctx.Err()
	}
}

// When the ctx given to Next ends, receiving stops at once, even though Next is not
// called again (the engine's reader can leave with a job in hand); what was received
// meanwhile is released at Close.
func TestSQSStopsReceivingWhenNextCtxEnds(t *testing.T) {
	t.Parallel()
	f := &sqGatedReceive{sqFake: newSQFake(), started: make(chan struct{}, 100),
		ended: make(chan error, 100), replies: make(chan []string)}
	s := sqSource(t, f, func(c *sqssource.Config) { c.MaxInFlight = 4; c.Clock = clockwork.NewFakeClock() })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	sqWithin(t, f.started, "first receive")
	f.replies <- []string{"one"}
	j, err := s.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, "one", j.Username)
	sqWithin(t, f.started, "second receive")
	f.replies <- []string{"two"} // received, never handed out
	sqWithin(t, f.started, "third receive (a long poll in flight)")
	require.NoError(t, s.Ready())

	cancel() // dispatch stops; Next is not called again
	require.ErrorIs(t, sqWithin(t, f.ended, "the long poll in flight is cancelled"), context.Canceled)
	require.ErrorContains(t, s.Ready(), "stopping")
	select {
	case <-f.started:
		t.Fatal("a receive started after the ctx ended")
	case <-time.After(100 * time.Millisecond):
	}
	require.NoError(t, j.Release(t.Context()))
	require.NoError(t, s.Close(t.Context()))
	f.snapshot(func(f *sqFake) {
		// The cancelled long poll may still wait at SQS (the clock stands still: all of
		// WaitTimeSeconds, 1 s): released for when it has ended, so it can't take them.
		require.Equal(t, []int32{2}, f.vis["rh-two"], "released at Close")
		require.Equal(t, []int32{2}, f.vis["rh-one"])
		require.Len(t, f.receives, 2, "only the two answered receives returned messages")
	})
	require.Equal(t, 0, s.InFlight())
}

// sqFlakyAttributes fails GetQueueAttributes with the given errors first.
type sqFlakyAttributes struct {
	*sqFake
	errs  []error
	calls int
}

func (f *sqFlakyAttributes) GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, o ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	f.calls++
	if f.calls <= len(f.errs) {
		return nil, f.errs[f.calls-1]
	}
	return f.sqFake.GetQueueAttributes(ctx, in, o...)
}

// The SQS client has no retryer of its own: the source retries the calls it makes once,
// for transient failures only.
func TestSQSStartRetriesTransientFailuresOnly(t *testing.T) {
	t.Parallel()
	throttled := &smithy.GenericAPIError{Code: "RequestThrottled", Message: "slow down"}
	f := &sqFlakyAttributes{sqFake: newSQFake(), errs: []error{throttled, throttled}}
	s, err := sqssource.New(t.Context(), sqssource.Config{API: f, QueueURL: "https://q/1/q", Clock: clock.Real()})
	require.NoError(t, err)
	require.NoError(t, s.Close(t.Context()))
	require.Equal(t, 3, f.calls, "two throttles, then the answer")

	missing := &smithy.GenericAPIError{Code: "AWS.SimpleQueueService.NonExistentQueue", Message: "no such queue"}
	f = &sqFlakyAttributes{sqFake: newSQFake(), errs: []error{missing}}
	_, err = sqssource.New(t.Context(), sqssource.Config{API: f, QueueURL: "https://q/1/q", Clock: clock.Real()})
	require.ErrorContains(t, err, "no such queue")
	require.Equal(t, 1, f.calls, "a missing queue is not retried")

	f = &sqFlakyAttributes{sqFake: newSQFake(), errs: []error{throttled, throttled, throttled, throttled, throttled}}
	_, err = sqssource.New(t.Context(), sqssource.Config{API: f, QueueURL: "https://q/1/q", EntryAttempts: 2, Clock: clock.Real()})
	require.ErrorContains(t, err, "slow down")
	require.Equal(t, 2, f.calls, "EntryAttempts bounds the attempts")
}

// A call's own per-attempt deadline (CallTimeout) is the path failing, not an answer:
// retried as every AWS caller retries it (awserr.Transient), and the attempt's error is
// shaped as the SDK returns it (a CanceledError the SDK's own rule would not retry).
func TestSQSStartRetriesItsOwnDeadline(t *testing.T) {
	t.Parallel()
	ownDeadline := &smithy.OperationError{ServiceID: "SQS", OperationName: "GetQueueAttributes",
		Err: &smithy.CanceledError{Err: context.DeadlineExceeded}}
	f := &sqFlakyAttributes{sqFake: newSQFake(), errs: []error{ownDeadline}}
	clk := clockwork.NewFakeClock()
	clocktest.Drive(t, clk, time.Minute)
	s, err := sqssource.New(t.Context(), sqssource.Config{API: f, QueueURL: "https://q/1/q", Clock: clk})
	require.NoError(t, err)
	require.NoError(t, s.Close(t.Context()))
	require.Equal(t, 2, f.calls, "the attempt that ran out of time, then the answer")
}

// sqDeniedDelete refuses every DeleteMessageBatch call: the role lacks sqs:DeleteMessage.
type sqDeniedDelete struct {
	*sqFake
	calls atomic.Int64
}

func (f *sqDeniedDelete) DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	f.calls.Add(1)
	return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform sqs:DeleteMessage", Fault: smithy.FaultClient}
}

// A batch call AWS refused is an answer (awserr.Transient): its entries are given up at
// once (the messages reappear when their visibility runs out), not sent again.
func TestSQSBatchCallRefusedIsNotRetried(t *testing.T) {
	t.Parallel()
	f := &sqDeniedDelete{sqFake: newSQFake("one")}
	s := sqSource(t, f, func(c *sqssource.Config) { c.MaxInFlight = 1 })
	j := sqNext(t, s)
	require.NoError(t, j.Ack(t.Context(), job.Result{Status: job.StatusSent}))
	require.NoError(t, s.Flush(t.Context()))
	require.Eventually(t, func() bool { return s.InFlight() == 0 }, 10*time.Second, time.Millisecond, "given up: not held")
	require.EqualValues(t, 1, f.calls.Load(), "refused once, not retried")
}
