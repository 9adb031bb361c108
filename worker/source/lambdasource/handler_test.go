package lambdasource_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/source/lambdasource"
)

var start = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// fakeDeadline is an invocation's context whose deadline is on the fake clock: Handle
// reads it, and never waits on it in real time (the real context never ends).
type fakeDeadline struct {
	context.Context
	at time.Time
}

func (f fakeDeadline) Deadline() (time.Time, bool) { return f.at, true }

func invocation(at time.Time) context.Context {
	return fakeDeadline{Context: context.Background(), at: at}
}

// fakeCognito answers ResendConfirmationCode: throttled users are always throttled, every
// other user is sent; every call is counted by user and announced on called.
type fakeCognito struct {
	throttled map[string]bool
	limited   map[string]bool // answered LimitExceededException (Cognito's per-user limit)
	mu        sync.Mutex
	calls     map[string]int
	called    chan string
}

func (f *fakeCognito) ResendConfirmationCode(_ context.Context, in *cip.ResendConfirmationCodeInput, _ ...func(*cip.Options)) (*cip.ResendConfirmationCodeOutput, error) {
	u := aws.ToString(in.Username)
	f.mu.Lock()
	f.calls[u]++
	f.mu.Unlock()
	defer func() { f.called <- u }()
	if f.throttled[u] {
		return nil, &smithy.OperationError{ServiceID: "Cognito Identity Provider", OperationName: "ResendConfirmationCode",
			Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}},
				Err:      &types.TooManyRequestsException{Message: aws.String("Rate exceeded")}}, RequestID: "r"}}
	}
	if f.limited[u] {
		return nil, &smithy.OperationError{ServiceID: "Cognito Identity Provider", OperationName: "ResendConfirmationCode",
			Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}},
				Err:      &types.LimitExceededException{Message: aws.String("Attempt limit exceeded, please try after some time.")}}, RequestID: "r"}}
	}
	return &cip.ResendConfirmationCodeOutput{CodeDeliveryDetails: &types.CodeDeliveryDetailsType{
		DeliveryMedium: types.DeliveryMediumTypeEmail, Destination: aws.String("a***@e***")}}, nil
}

func (f *fakeCognito) count(u string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[u]
}

// fakeLedger is the claim step: held users are another owner's (Busy), every other claim
// is won; outcomes and releases are recorded.
type fakeLedger struct {
	clk      clockwork.Clock
	held     map[string]bool
	peeked   chan string
	mu       sync.Mutex
	finished map[string]job.Status
	released map[string]bool // username → mayHaveCalled
}

func (l *fakeLedger) Peek(_ context.Context, j job.Job) (job.ClaimVerdict, error) {
	defer func() { l.peeked <- j.Username }()
	if l.held[j.Username] {
		return job.ClaimVerdict{Kind: job.Busy, At: l.clk.Now().Add(30 * time.Second), Owner: "other", Campaign: "c"}, nil
	}
	return job.ClaimVerdict{Kind: job.Won}, nil
}
func (l *fakeLedger) Claim(context.Context, job.Job) (job.ClaimVerdict, error) {
	return job.ClaimVerdict{Kind: job.Won}, nil
}
func (l *fakeLedger) Renew(context.Context, job.Job) error { return nil }
func (l *fakeLedger) Finish(_ context.Context, j job.Job, r job.Result) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.finished[j.Username] = r.Status
	return nil
}
func (l *fakeLedger) Release(_ context.Context, j job.Job, mayHaveCalled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.released[j.Username] = mayHaveCalled
}

type nopReport struct{}

func (nopReport) Write(job.Result) error { return nil }
func (nopReport) Sync() error            { return nil }

type fixture struct {
	clk    *clockwork.FakeClock
	api    *fakeCognito
	ledger *fakeLedger
	h      *lambdasource.Handler
}

// newFixture is the handler over the real engine and resender, with fakes for Cognito and
// the ledger table and a fake clock.
func newFixture(throttled, held []string, maxReceive int) *fixture {
	clk := clockwork.NewFakeClockAt(start)
	f := &fixture{clk: clk,
		api:    &fakeCognito{throttled: map[string]bool{}, limited: map[string]bool{}, calls: map[string]int{}, called: make(chan string, 100)},
		ledger: &fakeLedger{clk: clk, held: map[string]bool{}, peeked: make(chan string, 100), finished: map[string]job.Status{}, released: map[string]bool{}}}
	for _, u := range throttled {
		f.api.throttled[u] = true
	}
	for _, u := range held {
		f.ledger.held[u] = true
	}
	resender := &cognito.Resender{API: f.api, ClientID: "client", Limiter: pacing.NewLimiter(pacing.LimiterConfig{Clock: clk}),
		Retry: pacing.Policy{Attempts: 100, Base: time.Second, Max: time.Second}, CallTimeout: 10 * time.Second, Clock: clk}
	f.h = &lambdasource.Handler{CallTimeout: 10 * time.Second, Clock: clk,
		Config: lambdasource.Config{MaxReceiveCount: maxReceive},
		Run: func(stop, kill context.Context, src job.Source) error {
			_, err := (&engine.Engine{Source: src, Processor: resender, Report: nopReport{}, Workers: 4, Clock: clk,
				Ledger: f.ledger}).Run(stop, kill)
			return err
		}}
	return f
}

func msg(id, body, arn string, receives string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: body, EventSourceARN: arn,
		Attributes: map[string]string{"ApproximateReceiveCount": receives}}
}

const arn = "arn:aws:sqs:REGION:ACCOUNT_ID:resend"

func failures(resp events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// handle runs the handler with a deadline 60 s away on the fake clock, in the background.
func (f *fixture) handle(ev events.SQSEvent) (<-chan events.SQSEventResponse, <-chan error) {
	ctx := invocation(f.clk.Now().Add(time.Minute))
	resp, errc := make(chan events.SQSEventResponse, 1), make(chan error, 1)
	go func() {
		r, err := f.h.Handle(ctx, ev)
		resp <- r
		errc <- err
	}()
	return resp, errc
}

// wait reads c until every one of want has come (in any order).
func wait(t *testing.T, c <-chan string, want ...string) {
	t.Helper()
	left := map[string]bool{}
	for _, w := range want {
		left[w] = true
	}
	for len(left) > 0 {
		select {
		case got := <-c:
			delete(left, got)
		case <-time.After(10 * time.Second):
			t.Fatalf("no event for %v", left)
		}
	}
}

// A batch with a poison message, a user another owner holds and a user throttled past the
// deadline answers exactly those three as failures; the sent user succeeds, the held user
// is never called, and the throttled user's claim is given back (no call landed).
func TestHandlerReportsExactlyTheFailures(t *testing.T) {
	t.Parallel()
	f := newFixture([]string{"carol"}, []string{"bob"}, 5)
	ev := events.SQSEvent{Records: []events.SQSMessage{
		msg("m-poison", `{"username": 42}`, arn, "1"),
		msg("m-alice", "alice", arn, "1"),
		msg("m-bob", "bob", arn, "1"),
		msg("m-carol", "carol", arn, "1"),
	}}
	resp, errc := f.handle(ev)
	wait(t, f.api.called, "alice", "carol")
	wait(t, f.ledger.peeked, "bob")
	// Waiting: the stop and kill timers, and carol's backoff before her next attempt.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, f.clk.BlockUntilContext(ctx, 3))
	f.clk.Advance(time.Minute - lambdasource.SettleMarginDefault - 10*time.Second) // the soft stop

	r := <-resp
	require.NoError(t, <-errc)
	require.ElementsMatch(t, []string{"m-poison", "m-bob", "m-carol"}, failures(r))
	require.Equal(t, 1, f.api.count("alice"))
	require.Zero(t, f.api.count("bob"))
	require.Equal(t, map[string]job.Status{"alice": job.StatusSent}, f.ledger.finished)
	require.Equal(t, map[string]bool{"carol": false}, f.ledger.released, "carol's claim is released: no call of hers can have landed")
}

// A batch whose every message is throttled past the deadline is an error for the whole
// batch (the event source backs off); every claim is given back.
func TestHandlerAllSystemicIsAnError(t *testing.T) {
	t.Parallel()
	f := newFixture([]string{"dave", "erin"}, nil, 5)
	resp, errc := f.handle(events.SQSEvent{Records: []events.SQSMessage{msg("m1", "dave", arn, "1"), msg("m2", "erin", arn, "2")}})
	wait(t, f.api.called, "dave", "erin")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, f.clk.BlockUntilContext(ctx, 4))                            // stop, kill, two backoffs
	f.clk.Advance(time.Minute - lambdasource.SettleMarginDefault - 10*time.Second) // the soft stop

	r := <-resp
	err := <-errc
	require.ErrorIs(t, err, lambdasource.ErrSystemic)
	require.Empty(t, r.BatchItemFailures)
	require.Equal(t, map[string]bool{"dave": false, "erin": false}, f.ledger.released)
}

// Held users alone are item failures, not a batch error: another owner is at work, and
// the event source must not back off for it.
func TestHandlerHeldIsNotSystemic(t *testing.T) {
	t.Parallel()
	f := newFixture(nil, []string{"bob"}, 0)
	resp, errc := f.handle(events.SQSEvent{Records: []events.SQSMessage{msg("m-bob", "bob", arn, "1")}})
	r := <-resp
	require.NoError(t, <-errc)
	require.Equal(t, []string{"m-bob"}, failures(r))
}

// The poison rule: a failure while the redrive policy can still move it to the DLQ; with
// no DLQ, or past maxReceiveCount, it is logged and deleted (success).
func TestHandlerPoisonRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		maxReceive int
		receives   string
		fails      bool
	}{
		{"dlq, first receive", 3, "1", true},
		{"dlq, last receive", 3, "3", true},
		{"dlq, beyond it", 3, "4", false},
		{"no dlq", 0, "1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(nil, nil, tc.maxReceive)
			resp, errc := f.handle(events.SQSEvent{Records: []events.SQSMessage{msg("m-bad", "", arn, tc.receives)}})
			r := <-resp
			require.NoError(t, <-errc)
			if tc.fails {
				require.Equal(t, []string{"m-bad"}, failures(r))
			} else {
				require.Empty(t, r.BatchItemFailures)
			}
		})
	}
}

// FIFO: the first failure and every later message fail, and nothing after it is called.
func TestHandlerFIFOStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(nil, []string{"bob"}, 0)
	fifo := arn + ".fifo"
	resp, errc := f.handle(events.SQSEvent{Records: []events.SQSMessage{
		msg("m1", "alice", fifo, "1"), msg("m2", "bob", fifo, "1"), msg("m3", "carol", fifo, "1"), msg("m4", "dave", fifo, "1")}})
	r := <-resp
	require.NoError(t, <-errc)
	require.Equal(t, []string{"m2", "m3", "m4"}, failures(r))
	require.Equal(t, 1, f.api.count("alice"))
	require.Zero(t, f.api.count("carol"))
	require.Zero(t, f.api.count("dave"))
}

// An invocation with less time left than one call and the settle margin starts nothing:
// every message fails, as an error for the batch.
func TestHandlerTooLittleTime(t *testing.T) {
	t.Parallel()
	f := newFixture(nil, nil, 0)
	_, err := f.h.Handle(invocation(f.clk.Now().Add(5*time.Second)), events.SQSEvent{Records: []events.SQSMessage{msg("m1", "alice", arn, "1")}})
	require.ErrorIs(t, err, lambdasource.ErrSystemic)
	require.Zero(t, f.api.count("alice"))
}

// Each batch writes one Embedded Metric Format line: the _aws block names the metrics,
// and their values are top-level keys.
func TestHandlerEmitsEMF(t *testing.T) {
	t.Parallel()
	f := newFixture(nil, []string{"bob"}, 0)
	var buf bytes.Buffer
	f.h.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	f.h.FunctionName = "fn"
	resp, errc := f.handle(events.SQSEvent{Records: []events.SQSMessage{msg("m1", "alice", arn, "1"), msg("m2", "bob", arn, "1")}})
	<-resp
	require.NoError(t, <-errc)
	var line map[string]any
	for l := range strings.SplitSeq(buf.String(), "\n") {
		if strings.Contains(l, `"_aws"`) {
			require.NoError(t, json.Unmarshal([]byte(l), &line))
		}
	}
	require.NotNil(t, line, buf.String())
	cw := line["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	require.Equal(t, lambdasource.MetricsNamespace, cw["Namespace"])
	var names []string
	for _, m := range cw["Metrics"].([]any) {
		name := m.(map[string]any)["Name"].(string)
		names = append(names, name)
		require.Contains(t, line, name, "the value of %s", name)
	}
	require.Contains(t, names, "RecentlySent")
	require.Equal(t, "fn", line["FunctionName"])
	require.EqualValues(t, 2, line["Messages"])
	require.EqualValues(t, 1, line["Sent"])
	require.EqualValues(t, 1, line["BatchItemFailures"])
	require.EqualValues(t, 0, line["BatchErrors"])
}

// A poison message's line shows what its body held (an excerpt), not an empty username.
func TestHandlerPoisonLineShowsTheBody(t *testing.T) {
	t.Parallel()
	f := newFixture(nil, nil, 0)
	var buf bytes.Buffer
	f.h.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	long := `{"username": 42, "pad": "` + strings.Repeat("x", 500) + "\x01\"}"
	resp, errc := f.handle(events.SQSEvent{Records: []events.SQSMessage{msg("m-bad", long, arn, "1")}})
	<-resp
	require.NoError(t, <-errc)
	var line map[string]any
	for l := range strings.SplitSeq(buf.String(), "\n") {
		if strings.Contains(l, `"m-bad"`) && strings.Contains(l, `"msg":"message"`) {
			require.NoError(t, json.Unmarshal([]byte(l), &line))
		}
	}
	require.NotNil(t, line, buf.String())
	require.Equal(t, "", line["username"], "no username: the body says what it was")
	body, _ := line["body"].(string)
	require.True(t, strings.HasPrefix(body, `{"username": 42, "pad": "xxx`), "body: %q", body)
	require.True(t, strings.HasSuffix(body, "…"), "cut: %q", body)
	require.LessOrEqual(t, len([]rune(body)), 121)
}
