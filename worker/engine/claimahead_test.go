package engine_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// No job claims ahead before a call has finished fast: calls that hang from the start (a
// Cognito that stopped answering) leave the other jobs untaken, nothing claimed, so a
// kill -9 then leaves only the calls in flight `unknown`; the claimers beyond Workers take
// no job (jobs start in the source's order, as with Workers alone); a stop makes no call
// after it. (worker/records' TestEngineClaimAheadIsBoundedAndWhatKill9Leaves: claiming
// ahead once calls finish fast.)
func TestEngineNoClaimAheadBeforeACallFinished(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7")
	f.engine.Workers, f.engine.ClaimAhead = 2, 4
	f.engine.Ledger = &fakeLedger{log: f.log}
	calling, answer := make(chan string, 8), make(chan struct{})
	f.engine.Processor = processorFunc(func(_, _ context.Context, j job.Job) job.Result {
		calling <- j.SourceRef
		<-answer
		return sent(j)
	})
	stop, cancel := context.WithCancel(context.Background())
	type ran struct {
		sum *engine.Summary
		err error
	}
	done := make(chan ran, 1)
	go func() {
		sum, err := f.run(t, stop)
		done <- ran{sum, err}
	}()

	require.ElementsMatch(t, []string{"0", "1"}, []string{<-calling, <-calling}, "the first jobs first")
	for f.src.taken() < 2+1 {
		<-f.clock.After(0) // yields until the reader holds a third job
	}
	select {
	case ref := <-calling:
		t.Fatalf("job %s called beyond Workers", ref)
	default:
	}
	require.Equal(t, 3, f.src.taken(), "no claimer beyond Workers took a job")
	cancel()
	close(answer)
	r := <-done
	require.ErrorIs(t, r.err, engine.ErrInterrupted)
	require.Equal(t, 2, r.sum.Rows, "the calls in flight finish with their rows")
	require.Empty(t, calling, "no call after the stop")
	require.Equal(t, 2, f.log.count("intend:"), "no claim ahead before a call has finished")
	require.Zero(t, f.log.count("abandon:"))
	require.Empty(t, r.sum.MayHaveCalled)
}
