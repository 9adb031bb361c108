package lambdasource_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/source/lambdasource"
)

// fakeVisibility records GetQueueUrl and ChangeMessageVisibilityBatch.
type fakeVisibility struct {
	fail    error
	mu      sync.Mutex
	lookups []sqs.GetQueueUrlInput
	regions []string
	changed map[string]int32 // receipt handle → visibility timeout
	urls    []string
}

func (f *fakeVisibility) GetQueueUrl(_ context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var o sqs.Options
	for _, fn := range optFns {
		fn(&o)
	}
	f.lookups = append(f.lookups, *in)
	f.regions = append(f.regions, o.Region)
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String("http://127.0.0.1:1/" + aws.ToString(in.QueueOwnerAWSAccountId) + "/" + aws.ToString(in.QueueName))}, nil
}

func (f *fakeVisibility) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		f.changed[aws.ToString(e.ReceiptHandle)] = e.VisibilityTimeout
		f.urls = append(f.urls, aws.ToString(in.QueueUrl))
		out.Successful = append(out.Successful, sqstypes.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func withReceipt(m events.SQSMessage) events.SQSMessage {
	m.ReceiptHandle = "rh-" + m.MessageId
	return m
}

// A limit_exceeded message is put off until its due time — --limit-exceeded-delay (1 h),
// the queue worker's rule — before it is reported as a batch item failure; a held user's
// message and a sent one are not touched. The queue's URL is looked up once per
// environment, in the queue's region.
func TestHandlerPutsLimitExceededOff(t *testing.T) {
	t.Parallel()
	f := newFixture(nil, []string{"bob"}, 5)
	f.api.limited["lisa"] = true
	vis := &fakeVisibility{changed: map[string]int32{}}
	var logs bytes.Buffer
	f.h.SQS, f.h.Config.LimitExceededDelay = vis, time.Hour
	f.h.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	const queueARN = "arn:aws:sqs:eu-west-1:ACCOUNT_ID:resend"
	for round, ids := range [][2]string{{"m-alice", "m-lisa"}, {"m-alice2", "m-lisa2"}} {
		resp, errc := f.handle(events.SQSEvent{Records: []events.SQSMessage{
			withReceipt(msg(ids[0], "alice", queueARN, "1")), withReceipt(msg(ids[1], "lisa", queueARN, "1")),
			withReceipt(msg("m-bob", "bob", queueARN, "1"))}})
		r := <-resp
		require.NoError(t, <-errc)
		require.ElementsMatch(t, []string{ids[1], "m-bob"}, failures(r), "round %d", round)
		require.Equal(t, map[string]int32{"rh-" + ids[1]: 3600}, map[string]int32{"rh-" + ids[1]: vis.changed["rh-"+ids[1]]})
		require.NotContains(t, vis.changed, "rh-m-bob", "a held user comes back after the queue's visibility timeout")
		require.NotContains(t, vis.changed, "rh-"+ids[0])
	}
	require.Len(t, vis.lookups, 1, "the queue URL is asked once per environment")
	require.Equal(t, "resend", aws.ToString(vis.lookups[0].QueueName))
	require.Equal(t, "ACCOUNT_ID", aws.ToString(vis.lookups[0].QueueOwnerAWSAccountId))
	require.Equal(t, []string{"eu-west-1"}, vis.regions)
	require.Equal(t, []string{"http://127.0.0.1:1/ACCOUNT_ID/resend", "http://127.0.0.1:1/ACCOUNT_ID/resend"}, vis.urls)
	require.Contains(t, logs.String(), `"message_id":"m-lisa","batch_item":"failure","reason":"limit_exceeded","receive_count":1,"visible_in":3600`)
	require.Contains(t, logs.String(), `"put_off":1`)
}

// SQS's 12 h bound: a --limit-exceeded-delay of 12 h is cut to what is left of 12 h since
// the message's receipt, counting the ESM's longest batching window (5 min) and a minute
// to spare (sqssource.VisibilitySeconds).
func TestHandlerPutOffWithinTwelveHours(t *testing.T) {
	t.Parallel()
	f := newFixture(nil, nil, 5)
	f.api.limited["lisa"] = true
	vis := &fakeVisibility{changed: map[string]int32{}}
	f.h.SQS, f.h.Config.LimitExceededDelay = vis, 12*time.Hour
	resp, errc := f.handle(events.SQSEvent{Records: []events.SQSMessage{withReceipt(msg("m-lisa", "lisa", arn, "1"))}})
	<-resp
	require.NoError(t, <-errc)
	require.Equal(t, int32((12*time.Hour-5*time.Minute-time.Minute)/time.Second), vis.changed["rh-m-lisa"])
}

// When SQS refuses (no sqs:ChangeMessageVisibility, say), the message is still a batch item
// failure — it comes back after the queue's visibility timeout, as before — and a warning
// says so.
func TestHandlerPutOffFailsSoftly(t *testing.T) {
	t.Parallel()
	f := newFixture(nil, nil, 5)
	f.api.limited["lisa"] = true
	vis := &fakeVisibility{changed: map[string]int32{}, fail: errors.New("AccessDenied")}
	var logs bytes.Buffer
	f.h.SQS, f.h.Config.LimitExceededDelay = vis, time.Hour
	f.h.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	resp, errc := f.handle(events.SQSEvent{Records: []events.SQSMessage{withReceipt(msg("m-lisa", "lisa", arn, "1"))}})
	r := <-resp
	require.NoError(t, <-errc)
	require.Equal(t, []string{"m-lisa"}, failures(r))
	require.True(t, strings.Contains(logs.String(), "could not put messages off"), logs.String())
	require.Contains(t, logs.String(), `"visible_in":0`)
}

// spentBudget is a daily budget whose window is spent until next.
type spentBudget struct{ next time.Time }

func (b spentBudget) Take(context.Context) (time.Time, error) {
	return time.Time{}, &budget.SpentError{Next: b.next}
}
func (spentBudget) Give(context.Context, time.Time) error { return nil }
func (b spentBudget) Next() time.Time                     { return b.next }

// A spent daily budget: the batch's messages wait for the next window — each made
// invisible until it opens — as item failures (not a batch error: the event source
// backing off would not bring the window sooner); nobody is called.
func TestHandlerPutsBudgetSpentOffToTheNextWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(nil, nil, 5)
	vis := &fakeVisibility{changed: map[string]int32{}}
	f.h.SQS = vis
	next := start.Add(5 * time.Hour)
	resender := &cognito.Resender{API: f.api, ClientID: "client", Limiter: pacing.NewLimiter(pacing.LimiterConfig{Clock: f.clk}),
		Retry: pacing.Policy{Attempts: 3, Base: time.Second, Max: time.Second}, CallTimeout: 10 * time.Second, Clock: f.clk}
	f.h.Run = func(stop, kill context.Context, src job.Source) error {
		b := src.(*lambdasource.Batch)
		_, err := (&engine.Engine{Source: src, Processor: resender, Report: nopReport{}, Workers: 4, Clock: f.clk,
			Ledger: f.ledger, Budget: spentBudget{next: next},
			OnSpent: func(j job.Job, se *budget.SpentError) { b.Spent(j, se.Next) }}).Run(stop, kill)
		return err
	}
	var logs bytes.Buffer
	f.h.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	resp, errc := f.handle(events.SQSEvent{Records: []events.SQSMessage{
		withReceipt(msg("m1", "alice", arn, "1")), withReceipt(msg("m2", "bob", arn, "2"))}})
	r := <-resp
	require.NoError(t, <-errc, "not a batch error")
	require.ElementsMatch(t, []string{"m1", "m2"}, failures(r))
	require.Equal(t, map[string]int32{"rh-m1": 5 * 3600, "rh-m2": 5 * 3600}, vis.changed)
	require.Zero(t, f.api.count("alice")+f.api.count("bob"))
	require.Contains(t, logs.String(), `"reason":"budget_spent","receive_count":1,"visible_in":18000`)
}
