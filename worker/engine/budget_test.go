package engine_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// fixtureBudget is a budget of limit sends a window on the fixture's fake clock.
func (f *engineFixture) budget(limit int) *budget.Budget {
	start, _ := budget.Schedule{}.Window(f.clock.Now())
	return &budget.Budget{Limit: limit, Counter: budget.NewLocal(start, 0), Clock: f.clock}
}

// TestEngineBudgetStopsAFiniteSource: a budget of 3 on 10 users makes 3 calls, writes 3
// rows and stops with the SpentError naming the next window; the others have no row
// (given back) and nothing is left spent beyond what was sent.
func TestEngineBudgetStopsAFiniteSource(t *testing.T) {
	t.Parallel()
	var users []string
	for i := range 10 {
		users = append(users, "u"+strconv.Itoa(i))
	}
	f := newEngineFixture(users...)
	f.engine.Ledger = &fakeLedger{log: f.log}
	b := f.budget(3)
	f.engine.Budget = b
	sum, err := f.run(t, context.Background())
	var se *budget.SpentError
	require.ErrorAs(t, err, &se)
	require.False(t, se.Cap)
	require.Equal(t, time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC), se.Next)
	require.Len(t, filter(f.log.all(), "process:"), 3)
	require.Equal(t, 3, sum.Rows)
	require.Equal(t, 3, sum.Counts[job.StatusSent])
	// Every claim taken for a call the budget refused was given back.
	require.Equal(t, len(filter(f.log.all(), "intend:"))-3, len(filter(f.log.all(), "abandon:")))
	_, _, spent, _ := b.Status(context.Background())
	require.Equal(t, 3, spent)
}

// TestEngineBudgetGivesBackWhatWasNotSent: a definite non-send (user_not_found) gives
// its send back: 2 sends and 1 not found fit a budget of 2.
func TestEngineBudgetGivesBackWhatWasNotSent(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("gone", "a", "b")
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
	f.proc.fn = func(_, _ context.Context, j job.Job) job.Result {
		if j.Username == "gone" {
			return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusUserNotFound,
				Class: job.ClassPerUser, Attempts: 1}
		}
		return sent(j)
	}
	f.engine.Budget = f.budget(2)
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, sum.Counts[job.StatusSent])
	require.Equal(t, 1, sum.Counts[job.StatusUserNotFound])
}

// TestEngineDailyCapIsASpentBudget: Cognito's daily cap (a ClassSpent answer) stops a
// finite source's run with a SpentError (Cap), and the user it answered has no row: not
// failed, it is called again by --resume.
func TestEngineDailyCapIsASpentBudget(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("u0", "u1", "u2", "u3")
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
	f.proc.fn = func(_, _ context.Context, j job.Job) job.Result {
		if j.Username == "u2" {
			return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusFailed,
				ErrorCode: "LimitExceededException", Class: job.ClassSpent, Attempts: 1}
		}
		return sent(j)
	}
	f.engine.Budget = f.budget(0) // no --daily-budget: the windows still say when the cap resets
	sum, err := f.run(t, context.Background())
	var se *budget.SpentError
	require.ErrorAs(t, err, &se)
	require.True(t, se.Cap)
	require.Equal(t, time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC), se.Next)
	require.Equal(t, 2, sum.Rows)
	require.Zero(t, sum.Counts[job.StatusFailed])
	require.NotContains(t, f.report.byRef(), "2")
	require.Contains(t, filter(f.log.all(), "release:"), "release:2")
}

// TestEngineBudgetQueueJobsWaitForTheNextWindow: a queue's jobs (Defer) are not a
// reason to stop: each job the budget refuses waits at its queue until the next window
// and OnSpent is told; the run goes on.
func TestEngineBudgetQueueJobsWaitForTheNextWindow(t *testing.T) {
	t.Parallel()
	f := newEngineFixture()
	var mu sync.Mutex
	var deferred []time.Duration
	for i := range 5 {
		j := f.job("u"+strconv.Itoa(i), strconv.Itoa(i), true)
		j.Defer = func(_ context.Context, d time.Duration) error {
			mu.Lock()
			deferred = append(deferred, d)
			mu.Unlock()
			f.log.add("defer:%d", i)
			return nil
		}
		f.src.jobs = append(f.src.jobs, j)
	}
	f.engine.Ledger = &fakeLedger{log: f.log}
	f.engine.Budget = f.budget(2)
	var told int
	f.engine.OnSpent = func(_ job.Job, se *budget.SpentError) {
		mu.Lock()
		told++
		mu.Unlock()
	}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, sum.Counts[job.StatusSent])
	require.Len(t, deferred, 3)
	require.Equal(t, 3, told)
	untilNext := time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC).Sub(clockStart)
	for _, d := range deferred {
		require.Equal(t, untilNext, d)
	}
	require.Zero(t, f.log.count("release:"))
}
