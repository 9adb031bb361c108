package records_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// signalLedger is the file ledger, telling the test each claim made durable.
type signalLedger struct {
	*records.IntentLog
	claimed chan string
}

func (l signalLedger) Claim(ctx context.Context, j job.Job) (job.ClaimVerdict, error) {
	v, err := l.IntentLog.Claim(ctx, j)
	if err == nil {
		l.claimed <- j.SourceRef
	}
	return v, err
}

// heldSender answers the users of answered at once; every other call waits until
// release is closed (or kill ends): the calls in flight stay in flight while the test
// looks at the files.
type heldSender struct {
	answered map[string]bool
	calls    chan string
	release  chan struct{}
}

func (s heldSender) Send(_, kill context.Context, j job.Job, gate func(int) error) job.Result {
	if err := gate(1); err != nil {
		return job.Result{Username: j.Username, SourceRef: j.SourceRef, Class: job.ClassCanceled}
	}
	if s.answered[j.SourceRef] {
		return sent(j)
	}
	s.calls <- j.SourceRef
	select {
	case <-s.release:
	case <-kill.Done():
		return job.Result{Username: j.Username, SourceRef: j.SourceRef, Class: job.ClassCanceled, Ambiguous: true}
	}
	return sent(j)
}

// warmList hands out its first job, then the others once warmed is closed.
type warmList struct {
	*jobList
	first  bool
	warmed chan struct{}
}

func (l *warmList) Next(ctx context.Context) (job.Job, error) {
	if l.first {
		<-l.warmed
	}
	l.first = true
	return l.jobList.Next(ctx)
}

// Claiming ahead is bounded, and this is what it leaves: once calls finish fast (the first
// user, answered at once), with every call slot then taken by a call in flight, at most
// ClaimAhead more users are claimed (their intents durable, no
// call made). A kill -9 at that moment leaves exactly Workers + ClaimAhead intents without
// a row — `unknown` on resume — of which ClaimAhead were never called; the next user is
// not claimed. A soft stop instead gives the claims made ahead back (abandon records):
// the calls in flight finish with their rows and a resume finds no `unknown` at all.
func TestEngineClaimAheadIsBoundedAndWhatKill9Leaves(t *testing.T) {
	t.Parallel()
	const workers, ahead, users = 2, 3, 20
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	w, err := records.OpenReport(path, false)
	require.NoError(t, err)
	il, err := records.OpenLedger(records.LedgerPath(path), false, newFakeClock())
	require.NoError(t, err)
	l := signalLedger{IntentLog: il, claimed: make(chan string, users)}
	p := heldSender{answered: map[string]bool{"2": true}, calls: make(chan string, users), release: make(chan struct{})}
	var jobs []job.Job
	for i := range users {
		jobs = append(jobs, job.Job{Username: "u" + strconv.Itoa(i+2), SourceRef: strconv.Itoa(i + 2)})
	}
	warmed := make(chan struct{})
	e := &engine.Engine{Source: &warmList{jobList: newJobList(jobs), warmed: warmed}, Processor: p, Report: w,
		Ledger: l, Workers: workers, ClaimAhead: ahead, Clock: newFakeClock(),
		OnResult: func(r job.Result) {
			if r.SourceRef == "2" {
				close(warmed)
			}
		}}
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	type ran struct {
		sum *engine.Summary
		err error
	}
	done := make(chan ran, 1)
	go func() {
		sum, err := e.Run(stop, context.Background())
		done <- ran{sum, err}
	}()

	require.Equal(t, "2", <-l.claimed, "the first user is claimed, called and answered")
	var called, claimed []string
	for range workers {
		called = append(called, <-p.calls)
	}
	for range workers + ahead {
		claimed = append(claimed, <-l.claimed)
	}
	require.Subset(t, claimed, called, "every call's intent is durable first")
	select {
	case ref := <-l.claimed:
		t.Fatalf("user %s claimed beyond Workers + ClaimAhead", ref)
	case ref := <-p.calls:
		t.Fatalf("user %s called beyond Workers", ref)
	default:
	}

	// kill -9 now: the files as they are (intents fsync'd, no row yet), resumed.
	killed := filepath.Join(t.TempDir(), "r.csv")
	for _, f := range []string{path, records.LedgerPath(path)} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(killed+f[len(path):], b, 0o600))
	}
	st, err := records.LoadResume(killed, records.ResumeOptions{CSVLines: true})
	require.NoError(t, err)
	var unknown, neverCalled []string
	for _, rec := range st.Unknown {
		unknown = append(unknown, rec.SourceRef)
		if !slices.Contains(called, rec.SourceRef) {
			neverCalled = append(neverCalled, rec.SourceRef)
		}
	}
	require.ElementsMatch(t, claimed, unknown, "a kill -9 leaves Workers + ClaimAhead unknown users")
	require.Len(t, neverCalled, ahead, "of whom ClaimAhead were never called")

	// A soft stop: the calls in flight finish, the claims made ahead are given back.
	cancel()
	close(p.release)
	r := <-done
	require.ErrorIs(t, r.err, engine.ErrInterrupted)
	require.NoError(t, il.Close())
	require.NoError(t, w.Close())
	require.Equal(t, 1+workers, r.sum.Rows)
	require.Empty(t, r.sum.MayHaveCalled)
	st, err = records.LoadResume(path, records.ResumeOptions{CSVLines: true})
	require.NoError(t, err)
	require.Empty(t, st.Unknown, "a soft stop leaves no unknown user")
	require.Equal(t, 1+workers, st.Rows)
	for _, ref := range called {
		require.True(t, st.Done(ref), ref)
	}
}
