package enqueue_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/clock/clocktest"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
	"github.com/cognito-resend/cognito-resend/worker/source/enqueue"
)

// scriptedSend answers SendMessageBatch from a script: each step may fail the whole
// call, or fail the entries whose body contains one of the listed usernames.
type scriptedSend struct {
	enqueue.SQSSendAPI
	mu    sync.Mutex
	steps []sendStep
	calls [][]string // bodies per call
}

type sendStep struct {
	callErr   error
	failUsers map[string]bool // username → sender fault?
}

var _ enqueue.SQSSendAPI = (*scriptedSend)(nil)

func (f *scriptedSend) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var bodies []string
	for _, e := range in.Entries {
		bodies = append(bodies, aws.ToString(e.MessageBody))
	}
	f.calls = append(f.calls, bodies)
	step := sendStep{}
	if n := len(f.calls); n <= len(f.steps) {
		step = f.steps[n-1]
	} else if len(f.steps) > 0 {
		step = f.steps[len(f.steps)-1]
	}
	if step.callErr != nil {
		return nil, step.callErr
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		failed, senderFault := false, false
		for u, sf := range step.failUsers {
			if strings.Contains(aws.ToString(e.MessageBody), `"`+u+`"`) {
				failed, senderFault = true, sf
			}
		}
		if failed {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("X"), SenderFault: senderFault})
		} else {
			out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id})
		}
	}
	return out, nil
}

// driven is a fake clock that moves on by a minute whenever Enqueue waits on it (a
// backoff between retries): these tests are not about when.
func driven(t *testing.T) *clockwork.FakeClock {
	c := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	clocktest.Drive(t, c, time.Minute)
	return c
}

func enqueueUsers(t *testing.T, api enqueue.SQSSendAPI, users ...string) (enqueue.Summary, error) {
	t.Helper()
	src, err := csvsource.New(strings.NewReader("username\n"+strings.Join(users, "\n")+"\n"), csvsource.Options{})
	require.NoError(t, err)
	return enqueue.Enqueue(context.Background(), enqueue.Config{Clock: driven(t), API: api, QueueURL: "http://127.0.0.1:1/0/q",
		Retry: pacing.Policy{Attempts: 3, Base: time.Second, Max: 10 * time.Second}}, src, nil)
}

func TestEnqueueRetriesOnlyTransientFailures(t *testing.T) {
	t.Parallel()
	api := &scriptedSend{steps: []sendStep{
		{callErr: errors.New("connection reset")},               // whole call fails: all resent
		{failUsers: map[string]bool{"bob": false, "eve": true}}, // bob transient, eve sender's fault
		{}, // bob goes through
	}}
	sum, err := enqueueUsers(t, api, "ann", "bob", "eve")
	require.NoError(t, err)
	require.Equal(t, enqueue.Summary{Enqueued: 2, Failed: 1}, sum)
	require.Len(t, api.calls, 3)
	require.Len(t, api.calls[0], 3)
	require.Len(t, api.calls[1], 3)
	require.Len(t, api.calls[2], 1, "only the transient failure is sent again")
	require.Contains(t, api.calls[2][0], `"bob"`)
}

func TestEnqueueGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	t.Run("entries", func(t *testing.T) {
		t.Parallel()
		api := &scriptedSend{steps: []sendStep{{failUsers: map[string]bool{"bob": false}}}}
		sum, err := enqueueUsers(t, api, "ann", "bob")
		require.NoError(t, err, "entries that fail for good are counted, not fatal")
		require.Equal(t, enqueue.Summary{Enqueued: 1, Failed: 1}, sum)
		require.Len(t, api.calls, 3, "MaxAttempts 3")
	})
	t.Run("whole call", func(t *testing.T) {
		t.Parallel()
		down := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("endpoint down")}
		api := &scriptedSend{steps: []sendStep{{callErr: down}}}
		sum, err := enqueueUsers(t, api, "ann", "bob")
		require.ErrorContains(t, err, "SendMessageBatch: dial tcp: endpoint down")
		require.Equal(t, 2, sum.Failed)
		require.Len(t, api.calls, 3)
	})
}

// An answer is not retried: a call AWS refused (no permission, no such queue) fails at
// once, and an entry it rejected as the sender's fault is counted, not sent again; one
// rule (awserr.Transient) decides, as for every AWS call.
func TestEnqueueDoesNotRetryAnswers(t *testing.T) {
	t.Parallel()
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform sqs:SendMessage", Fault: smithy.FaultClient}
	api := &scriptedSend{steps: []sendStep{{callErr: denied}}}
	sum, err := enqueueUsers(t, api, "ann", "bob")
	require.ErrorContains(t, err, "SendMessageBatch: api error AccessDenied")
	require.Equal(t, 2, sum.Failed)
	require.Len(t, api.calls, 1, "access denied is an answer: the same call gets the same")

	throttled := &smithy.GenericAPIError{Code: "RequestThrottled", Message: "slow down"}
	api = &scriptedSend{steps: []sendStep{{callErr: throttled}, {}}}
	sum, err = enqueueUsers(t, api, "ann", "bob")
	require.NoError(t, err)
	require.Equal(t, enqueue.Summary{Enqueued: 2}, sum)
	require.Len(t, api.calls, 2, "a throttle is retried")
}

// fifoIDs records the FIFO dedupe ids of every entry sent.
type fifoIDs struct {
	enqueue.SQSSendAPI
	ids []string
}

func (f *fifoIDs) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		f.ids = append(f.ids, aws.ToString(e.MessageDeduplicationId))
		out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

// In a case-sensitive pool Alice and alice are two users: enqueue keeps both, with two
// FIFO ids; by default they are one user.
func TestEnqueueCaseRule(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		c    admit.Case
		want int
	}{{admit.CaseInsensitive, 1}, {admit.CaseSensitive, 2}} {
		src, err := csvsource.New(strings.NewReader("username\nalice\nAlice\n"), csvsource.Options{})
		require.NoError(t, err)
		api := &fifoIDs{}
		sum, err := enqueue.Enqueue(context.Background(), enqueue.Config{Clock: driven(t), API: api, QueueURL: "http://127.0.0.1:1/0/q.fifo",
			Case: tt.c}, src, nil)
		require.NoError(t, err)
		require.Equal(t, tt.want, sum.Enqueued)
		require.Equal(t, 2-tt.want, sum.Duplicate)
		require.Len(t, api.ids, tt.want)
		if tt.want == 2 {
			require.NotEqual(t, api.ids[0], api.ids[1])
		}
	}
	require.Equal(t, enqueue.UserKey(admit.CaseInsensitive, "Alice"), enqueue.UserKey(admit.CaseInsensitive, "alice"))
	require.NotEqual(t, enqueue.UserKey(admit.CaseSensitive, "Alice"), enqueue.UserKey(admit.CaseSensitive, "alice"))
}
