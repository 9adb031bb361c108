package sqssource_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"

	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/source/sqssource"
)

// A source started paused receives nothing until Resume (a queue worker waits for
// Cognito's first answer) and is not ready meanwhile, saying why.
func TestSQSPausedAtStartReceivesNothing(t *testing.T) {
	t.Parallel()
	f := &sqGatedReceive{sqFake: newSQFake(), started: make(chan struct{}, 100),
		ended: make(chan error, 100), replies: make(chan []string)}
	s := sqSource(t, f, func(c *sqssource.Config) { c.PausedAtStart = "waiting for Cognito" })
	require.EqualError(t, s.Ready(), "not receiving: waiting for Cognito")
	select {
	case <-f.started:
		t.Fatal("a receive started while paused")
	case <-time.After(100 * time.Millisecond): // bounded: no receive may start
	}
	s.Resume()
	sqWithin(t, f.started, "a receive once resumed")
	f.replies <- []string{"alice"}
	require.Equal(t, "alice", sqNext(t, s).Username)
}

// Pause cancels the long poll in flight, releases (visibility 0) the messages received
// and not handed out, starts no receive until Resume, and leaves the jobs handed out to
// give their message back themselves.
func TestSQSPauseReleasesWhatItHolds(t *testing.T) {
	t.Parallel()
	f := &sqGatedReceive{sqFake: newSQFake(), started: make(chan struct{}, 100),
		ended: make(chan error, 100), replies: make(chan []string)}
	s := sqSource(t, f, func(c *sqssource.Config) { c.MaxInFlight = 4; c.Clock = clockwork.NewFakeClock() })
	sqWithin(t, f.started, "first receive")
	f.replies <- []string{"one", "two", "three"}
	j := sqNext(t, s) // handed out
	sqWithin(t, f.started, "a long poll for the free slot")
	require.Equal(t, 3, s.InFlight())

	s.Pause("Cognito unreachable")
	require.ErrorIs(t, sqWithin(t, f.ended, "the long poll in flight is cancelled"), context.Canceled)
	require.EqualError(t, s.Ready(), "not receiving: Cognito unreachable")
	require.NoError(t, s.Flush(t.Context()))
	f.snapshot(func(f *sqFake) {
		// Visible again once the cancelled long poll has ended at SQS (the clock stands
		// still: WaitTimeSeconds 1 s, + 1 s): it can't take them.
		require.Equal(t, map[string][]int32{"rh-two": {2}, "rh-three": {2}}, f.vis, "the two not started released, once")
	})
	require.Equal(t, 1, s.InFlight(), "only the job handed out holds its message")
	require.NoError(t, j.Release(t.Context()))
	require.NoError(t, s.Flush(t.Context()))
	require.Equal(t, 0, s.InFlight())
	select {
	case <-f.started:
		t.Fatal("a receive started while paused")
	case <-time.After(100 * time.Millisecond): // bounded: no receive may start
	}

	s.Resume()
	require.NoError(t, s.Ready())
	sqWithin(t, f.started, "receiving again")
}

// sqNoQueue answers every ReceiveMessage that the queue does not exist.
type sqNoQueue struct{ *sqFake }

func (f *sqNoQueue) ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return nil, &sqstypes.QueueDoesNotExist{Message: aws.String("The specified queue does not exist."),
		ErrorCodeOverride: aws.String("AWS.SimpleQueueService.NonExistentQueue")}
}

// A deleted queue: once every receive for QueueGoneAfter has said the queue does not
// exist, Next fails with ErrQueueGone and Live reports it (issue 20, point 4).
func TestSQSQueueGone(t *testing.T) {
	t.Parallel()
	clk := clockwork.NewFakeClock()
	var logs bytes.Buffer // written by the receive loop before Next fails, read after
	s := sqSource(t, &sqNoQueue{newSQFake()}, func(c *sqssource.Config) {
		c.Clock, c.QueueGoneAfter = clk, 10*time.Second
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	require.NoError(t, s.Live())
	next := make(chan error, 1)
	go func() { _, err := s.Next(t.Context()); next <- err }()
	for range 20 {
		// The heartbeat's ticker and the receive loop's backoff sleep wait on the clock.
		require.NoError(t, clk.BlockUntilContext(t.Context(), 2))
		clk.Advance(20 * time.Second)
		select {
		case err := <-next:
			require.ErrorIs(t, err, sqssource.ErrQueueGone)
			require.ErrorContains(t, err, "AWS.SimpleQueueService.NonExistentQueue")
			require.ErrorIs(t, s.Live(), sqssource.ErrQueueGone)
			require.ErrorIs(t, s.Ready(), sqssource.ErrQueueGone)
			// JSON logs carry the backoff as a duration string, not nanoseconds.
			retryIn := regexp.MustCompile(`"msg":"receive failed".*"retry_in":"([^"]+)"`).FindStringSubmatch(logs.String())
			require.Len(t, retryIn, 2, logs.String())
			_, perr := time.ParseDuration(retryIn[1])
			require.NoError(t, perr)
			require.Contains(t, logs.String(), `"msg":"the queue does not exist any more: stopping this worker"`)
			return
		case <-time.After(50 * time.Millisecond): // the loop's next receive, then its sleep
		}
	}
	t.Fatal("Next never failed on a deleted queue")
}

// A worker on an empty queue is ready while its first long poll waits (the queue
// answered GetQueueAttributes at start), not only once that poll returns, up to 20 s
// later.
func TestSQSReadyDuringTheFirstLongPoll(t *testing.T) {
	t.Parallel()
	f := &sqGatedReceive{sqFake: newSQFake(), started: make(chan struct{}, 100),
		ended: make(chan error, 100), replies: make(chan []string)}
	s := sqSource(t, f, nil)
	sqWithin(t, f.started, "the first long poll")
	require.NoError(t, s.Ready())
}

// Idle (the daily budget spent) stops receiving like Pause, yet the worker stays ready;
// a Pause during an Idle holds the source until both are lifted, in either order.
func TestSQSIdleStaysReady(t *testing.T) {
	t.Parallel()
	f := &sqGatedReceive{sqFake: newSQFake(), started: make(chan struct{}, 100),
		ended: make(chan error, 100), replies: make(chan []string)}
	s := sqSource(t, f, func(c *sqssource.Config) { c.Clock = clockwork.NewFakeClock() })
	sqWithin(t, f.started, "first receive")
	s.Idle("daily budget spent until 2026-12-06T00:00:00Z", time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
	require.ErrorIs(t, sqWithin(t, f.ended, "the long poll in flight is cancelled"), context.Canceled)
	require.NoError(t, s.Ready(), "idle is well: ready")
	s.Pause("Cognito unreachable")
	require.EqualError(t, s.Ready(), "not receiving: Cognito unreachable")
	s.Resume()
	require.NoError(t, s.Ready())
	select {
	case <-f.started:
		t.Fatal("a receive started while idle")
	case <-time.After(100 * time.Millisecond): // bounded: no receive may start
	}
	s.Wake()
	sqWithin(t, f.started, "receiving again")
}
