package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// The claim step: verdicts that settle a job without a call, deferral of a user another
// owner holds, the outcome recorded after the row and before the ack, lease renewal.

func TestEngineVerdictRowsWithoutACall(t *testing.T) {
	t.Parallel()

	sentAt := clockStart.Add(-time.Hour)
	f := newEngineFixture("alice", "bob", "carol")
	f.engine.Ledger = &fakeLedger{log: f.log, verdict: func(j job.Job) job.ClaimVerdict {
		switch j.Username {
		case "alice":
			return job.ClaimVerdict{Kind: job.RecentlySent, At: sentAt, Owner: "host/1/ab", Campaign: "spring"}
		case "bob":
			return job.ClaimVerdict{Kind: job.Expired, At: sentAt, Owner: "host/2/cd", Campaign: "autumn"}
		}
		return job.ClaimVerdict{Kind: job.Won}
	}}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)

	rows := f.report.byRef()
	require.Equal(t, job.Result{Username: "alice", SourceRef: "0", Status: job.StatusRecentlySent, ErrorCode: "RecentlySent",
		ErrorMessage: `sent a code at 2025-03-04T04:06:07Z (campaign "spring", replica "host/1/ab"); not sent again within the cooldown`,
		StartedAt:    clockStart, FinishedAt: clockStart, Class: job.ClassPerUser, Message: job.MessageConfirmation}, rows["0"])
	require.Equal(t, job.StatusUnknown, rows["1"].Status)
	require.Contains(t, rows["1"].ErrorMessage, `campaign "autumn", replica "host/2/cd"`)
	require.Contains(t, rows["1"].ErrorMessage, "--retry-unknown")
	require.Equal(t, job.StatusSent, rows["2"].Status)
	require.Equal(t, []string{"process:2"}, filter(f.log.all(), "process:"), "only the won claim is called")
	require.Equal(t, []string{"finish:2:sent"}, filter(f.log.all(), "finish:"), "only a claim of ours is finished")
	require.ElementsMatch(t, []string{"ack:0:recently_sent", "ack:1:unknown", "ack:2:sent"}, filter(f.log.all(), "ack:"))
	require.Equal(t, map[job.Status]int{job.StatusRecentlySent: 1, job.StatusUnknown: 1, job.StatusSent: 1}, sum.Counts)
}

// Claim durable → call → row durable → outcome in the ledger → ack.
func TestEngineFinishAfterRowBeforeAck(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("u0", "u1", "u2")
	f.engine.Ledger = &fakeLedger{log: f.log}
	_, err := f.run(t, context.Background())
	require.NoError(t, err)
	ev := f.log.all()
	for _, ref := range []string{"0", "1", "2"} {
		claimAt, process := slices.Index(ev, "intend:"+ref), slices.Index(ev, "process:"+ref)
		write, finish, ack := slices.Index(ev, "write:"+ref), slices.Index(ev, "finish:"+ref+":sent"), slices.Index(ev, "ack:"+ref+":sent")
		require.True(t, claimAt >= 0 && claimAt < process && process < write && write < finish && finish < ack, "%s: %v", ref, ev)
		sync := slices.Index(ev[write:], "sync") + write
		require.Less(t, sync, finish, "the row is durable before the outcome is recorded")
	}
}

// A ledger that can't record an outcome stops the campaign: the row stays (it is
// durable), the job is not acked but given back, and its claim is left to expire.
func TestEngineFinishErrorStops(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("u0", "u1", "u2", "u3")
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
	f.engine.BatchSize = 1
	f.engine.Ledger = &fakeLedger{log: f.log, finishErr: errors.New("table unreachable")}
	sum, err := f.run(t, context.Background())
	require.ErrorContains(t, err, "ledger: table unreachable")
	require.Zero(t, f.log.count("ack:"), "no ack without the outcome in the ledger")
	require.Contains(t, filter(f.log.all(), "release:"), "release:0")
	require.Zero(t, f.log.count("abandon:"), "the claim of a call that happened is never released")
	require.Equal(t, job.StatusSent, f.report.byRef()["0"].Status, "the row is durable")
	require.GreaterOrEqual(t, sum.Rows, 1)
}

// A ledger whose last answer was a timeout stopped the run: that is a ledger error, not
// an interruption (the caller's exit code and hint differ).
func TestEngineLedgerTimeoutIsALedgerError(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("u0")
	f.engine.Ledger = &fakeLedger{log: f.log, intendErr: fmt.Errorf("table t: claim: %w", context.DeadlineExceeded)}
	_, err := f.run(t, context.Background())
	require.ErrorIs(t, err, engine.ErrLedger)
	require.NotErrorIs(t, err, engine.ErrInterrupted)
}

// Busy, queue: the job goes back to its source to come again after the rest of the
// other owner's lease; no row; its redelivery is not a duplicate.
func TestEngineBusyDefersAtTheSource(t *testing.T) {
	t.Parallel()

	f := newEngineFixture()
	var mu sync.Mutex
	var deferred []time.Duration
	firstDefer := make(chan struct{})
	mk := func(ref string) job.Job {
		j := f.job("alice", ref, true)
		j.Defer = func(_ context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			deferred = append(deferred, d)
			f.log.add("defer:%s", ref)
			if len(deferred) == 1 {
				close(firstDefer)
			}
			return nil
		}
		return j
	}
	f.src.jobs = []job.Job{mk("0"), mk("1")}
	f.src.before = func(i int) { // the redelivery comes after the deferral
		if i != 1 {
			return
		}
		select {
		case <-firstDefer:
		case <-time.After(10 * time.Second):
			t.Error("no deferral within 10 s")
		}
	}
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
	claims := 0
	f.engine.Ledger = &fakeLedger{log: f.log, verdict: func(job.Job) job.ClaimVerdict {
		claims++
		if claims == 1 {
			return job.ClaimVerdict{Kind: job.Busy, At: clockStart.Add(7 * time.Second), Owner: "other"}
		}
		return job.ClaimVerdict{Kind: job.Won}
	}}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, []time.Duration{7*time.Second + 250*time.Millisecond}, deferred, "the rest of the lease, and a margin")
	require.Equal(t, []string{"defer:0"}, filter(f.log.all(), "defer:"))
	rows := f.report.byRef()
	require.NotContains(t, rows, "0", "no row for a deferred job")
	require.Equal(t, job.StatusSent, rows["1"].Status, "the redelivery is claimed, not a duplicate")
	require.Equal(t, 1, sum.Deferred)
	require.Zero(t, f.log.count("release:"))
}

// Busy, CSV or pool: the engine keeps the job and claims it again after the lease; the
// run does not end before; the job keeps its one dedupe entry.
func TestEngineBusyDefersInTheEngine(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("alice", "bob", "ALICE")
	for i := range f.src.jobs {
		f.src.jobs[i].Release = nil // a CSV
	}
	f.engine.Workers = 2
	var mu sync.Mutex
	aliceClaims := 0
	f.engine.Ledger = &fakeLedger{log: f.log, verdict: func(j job.Job) job.ClaimVerdict {
		mu.Lock()
		defer mu.Unlock()
		if j.Username == "alice" {
			aliceClaims++
			if aliceClaims < 3 {
				return job.ClaimVerdict{Kind: job.Busy, At: f.clock.Now().Add(10 * time.Second)}
			}
		}
		return job.ClaimVerdict{Kind: job.Won}
	}}
	done := make(chan struct{})
	var sum *engine.Summary
	var err error
	go func() { defer close(done); sum, err = f.engine.Run(context.Background(), context.Background()) }()
	for range 2 { // two deferrals, each waiting on the clock
		require.NoError(t, f.clock.BlockUntilContext(t.Context(), 1))
		select {
		case <-done:
			t.Fatal("the run ended with a deferred job")
		default:
		}
		f.clock.Advance(10*time.Second + 250*time.Millisecond)
	}
	<-done
	require.NoError(t, err)
	f.checkInvariants(t)
	rows := f.report.byRef()
	require.Equal(t, job.StatusSent, rows["0"].Status, "claimed again after the lease, then sent")
	require.Equal(t, job.StatusSent, rows["1"].Status)
	require.Equal(t, job.StatusDuplicate, rows["2"].Status, "one dedupe entry however often deferred")
	require.Equal(t, 3, aliceClaims)
	require.Equal(t, 2, sum.Deferred)
	require.Equal(t, 3, sum.Rows)
}

// A stop while jobs are deferred: they get no row and are given back.
func TestEngineStopWithDeferredJobs(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("alice", "bob")
	f.src.jobs[0].Release = nil
	f.src.block = true // a source that doesn't end: the stop ends the run
	f.engine.Ledger = &fakeLedger{log: f.log, verdict: func(j job.Job) job.ClaimVerdict {
		if j.Username == "alice" {
			return job.ClaimVerdict{Kind: job.Busy, At: f.clock.Now().Add(time.Minute)}
		}
		return job.ClaimVerdict{Kind: job.Won}
	}}
	stop, cancel := context.WithCancel(context.Background())
	f.engine.OnResult = func(r job.Result) {
		f.log.add("result:%s", r.SourceRef)
		cancel()
	}
	sum, err := f.run(t, stop)
	require.ErrorIs(t, err, engine.ErrInterrupted)
	require.NotContains(t, f.report.byRef(), "0")
	require.Equal(t, 1, sum.Released, "the deferred job is given back")
	require.Equal(t, 1, sum.Rows)
}

// A claim held while its job waits is renewed every interval; one that lost its lease
// ends the job's attempts, and the job is claimed again for its row; a ledger that
// can't renew stops the campaign.
func TestEngineRenewsHeldClaims(t *testing.T) {
	t.Parallel()

	waitForStop := func(stop, _ context.Context, j job.Job) job.Result {
		<-stop.Done() // a job waiting for a token or between retries
		return job.Result{Username: j.Username, SourceRef: j.SourceRef, Class: job.ClassCanceled, ErrorCode: "Canceled"}
	}

	t.Run("renewed while held", func(t *testing.T) {
		t.Parallel()
		f := newEngineFixture("alice")
		f.engine.RenewInterval = 3 * time.Second
		release := make(chan struct{})
		f.proc.fn = func(_, _ context.Context, j job.Job) job.Result { <-release; return sent(j) }
		f.engine.Ledger = &fakeLedger{log: f.log}
		done := make(chan error, 1)
		go func() { _, err := f.engine.Run(context.Background(), context.Background()); done <- err }()
		require.Eventually(t, func() bool { return f.log.count("process:") > 0 }, 10*time.Second, time.Millisecond,
			"the job is in its call")
		for i := range 8 { // 8 ticks of interval/4: the claim is due twice
			require.NoError(t, f.clock.BlockUntilContext(t.Context(), 1))
			f.clock.Advance(750 * time.Millisecond)
			if i == 3 || i == 7 {
				require.Eventually(t, func() bool { return f.log.count("renew:") == (i+1)/4 }, 5*time.Second, time.Millisecond)
			}
		}
		close(release)
		require.NoError(t, <-done)
		require.Equal(t, 2, f.log.count("renew:"), "renewed once per interval held, no more")
	})

	t.Run("lost claim: no further attempt, claimed again", func(t *testing.T) {
		t.Parallel()
		f := newEngineFixture("alice")
		f.src.jobs[0].Release = nil
		f.engine.RenewInterval = time.Second
		f.proc.fn = waitForStop
		claims := 0
		var mu sync.Mutex
		f.engine.Ledger = &fakeLedger{log: f.log,
			renewErr: func(job.Job) error { return job.ErrClaimLost },
			verdict: func(job.Job) job.ClaimVerdict {
				mu.Lock()
				defer mu.Unlock()
				claims++
				if claims == 1 {
					return job.ClaimVerdict{Kind: job.Won}
				}
				return job.ClaimVerdict{Kind: job.Expired, At: clockStart, Owner: "other"}
			}}
		done := make(chan error, 1)
		go func() { _, err := f.engine.Run(context.Background(), context.Background()); done <- err }()
		advanceUntil(t, f, 250*time.Millisecond, func() bool { return f.log.count("renew:") > 0 })
		require.NoError(t, <-done)
		require.Equal(t, 1, f.log.count("process:"))
		require.Equal(t, job.StatusUnknown, f.report.byRef()["0"].Status, "claimed again: the other owner's verdict")
		require.Zero(t, f.log.count("abandon:")+f.log.count("keep:"), "a lost claim is not ours to release")
	})

	t.Run("renewal failing stops the campaign", func(t *testing.T) {
		t.Parallel()
		f := newEngineFixture("alice")
		f.engine.RenewInterval = time.Second
		f.proc.fn = waitForStop
		f.engine.Ledger = &fakeLedger{log: f.log, renewErr: func(job.Job) error { return errors.New("table unreachable") }}
		done := make(chan error, 1)
		go func() { _, err := f.engine.Run(context.Background(), context.Background()); done <- err }()
		advanceUntil(t, f, 250*time.Millisecond, func() bool { return f.log.count("renew:") > 0 })
		err := <-done
		require.ErrorContains(t, err, "ledger: renewing the claim of alice: table unreachable")
		require.Equal(t, []string{"abandon:0"}, filter(f.log.all(), "abandon:"), "stopped before a call: released")
	})
}

// advanceUntil moves the fake clock by step whenever something waits on it, until cond.
func advanceUntil(t *testing.T, f *engineFixture, step time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "condition not reached")
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		if f.clock.BlockUntilContext(ctx, 1) == nil {
			f.clock.Advance(step)
		}
		cancel()
	}
}
