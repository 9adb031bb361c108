package worker_test

import (
	"context"
	"errors"
	"testing"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker"
)

// A call aborted by the hard stop may already have reached Cognito: the result must be
// ambiguous, so the engine keeps the intent and a resume reports the user unknown
// instead of calling again (a second ^C must not lead to a second code).
func TestResendAbortedByKillIsAmbiguous(t *testing.T) {
	t.Parallel()
	inCall := make(chan struct{})
	api := newFakeCognito(answer{fn: func(ctx context.Context) (*cip.ResendConfirmationCodeOutput, error) {
		close(inCall)
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	r := newTestResender(api, newFakeClock())
	stop, cancelStop := context.WithCancel(context.Background())
	kill, cancelKill := context.WithCancel(context.Background())
	done := make(chan worker.Result)
	go func() { done <- r.Resend(stop, kill, worker.Job{Username: "alice", SourceRef: "2"}) }()
	<-inCall
	cancelStop()
	cancelKill()
	res := <-done
	require.Equal(t, worker.ClassCanceled, res.Class)
	require.True(t, res.Ambiguous)
	require.Equal(t, 1, res.Attempts)
}

func TestEngineKeepsIntentOfKilledCall(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("alice")
	f.engine.Journal = &fakeJournal{log: f.log}
	f.engine.Processor = processorFunc(func(stop, kill context.Context, job worker.Job) worker.Result {
		return worker.Result{Username: job.Username, SourceRef: job.SourceRef, Class: worker.ClassCanceled, Attempts: 1, Ambiguous: true}
	})
	_, err := f.engine.Run(context.Background(), context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, f.log.count("intend:"))
	require.Equal(t, 0, f.log.count("abandon:"), "the call may have landed: the intent must stay")
	require.Equal(t, 1, f.log.count("release:"))
}

// When the ledger can't record intents, calling anyway would lose the no-second-code
// guarantee; silently releasing every job would hot-loop a queue. Stop instead.
func TestEngineStopsWhenLedgerFails(t *testing.T) {
	t.Parallel()
	users := make([]string, 50)
	for i := range users {
		users[i] = "u" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	f := newEngineFixture(users...)
	f.engine.Journal = &fakeJournal{log: f.log, intendErr: errors.New("disk full")}
	_, err := f.engine.Run(context.Background(), context.Background())
	require.ErrorContains(t, err, "ledger")
	require.ErrorContains(t, err, "disk full")
	require.Equal(t, 0, f.log.count("process:"), "no call without an intent")
	require.Less(t, f.log.count("intend:"), len(users), "the campaign stopped instead of draining the source")
	require.Equal(t, 0, f.report.count())
}

type processorFunc func(stop, kill context.Context, job worker.Job) worker.Result

func (p processorFunc) Resend(stop, kill context.Context, job worker.Job) worker.Result {
	return p(stop, kill, job)
}
