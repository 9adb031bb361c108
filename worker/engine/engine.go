package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// Defaults of the engine's settings (zero fields).
const (
	// WorkersDefault is --workers: calls in flight at once.
	WorkersDefault = 8
	// BatchSizeDefault caps the rows of one group commit.
	BatchSizeDefault = 256
	// SettleBudget is the settle budget: the deadline of each ack, release and ledger
	// finish made after a stop, and of the campaign's work after the engine stopped
	// (flush deletes, release unstarted messages, leave the fleet): a stop ends within
	// --shutdown-timeout + SettleBudget. Engine.SettleTimeout's default.
	SettleBudget = 5 * time.Second
	// HeldRecheckDefault is Engine.HeldRecheck: a held user is looked at again after at
	// most this long (one ledger read, no rate token).
	HeldRecheckDefault = time.Second
	// ShutdownTimeoutDefault is --shutdown-timeout: how long calls in flight may take
	// after a soft stop before the hard stop aborts them (under Kubernetes' default
	// 30 s grace period).
	ShutdownTimeoutDefault = 25 * time.Second
)

// Engine runs the pipeline: Source → admit → (verify → claim → processor) × Workers →
// report writer → finish → ack at the source. A job is acked only after its row is
// durable and its outcome is in the ledger.
type Engine struct {
	Source    job.Source
	Processor Processor
	Report    Report
	Workers   int
	Logger    *slog.Logger
	Clock     clock.Clock
	// Admitter applies the admit rule (validity, dedupe); nil means a fresh one,
	// usernames compared case-insensitively.
	Admitter *admit.Admitter
	// Verifier, when set, checks each admitted job's user before its claim: a user who
	// can't receive a code gets its row without a claim or a resend.
	Verifier Verifier
	// Ledger, when set, claims each user before the first call and records the outcome
	// after the row (the claim step).
	Ledger Ledger
	// RenewInterval is how often a claim held by a job that retries is renewed
	// (Ledger.Renew); zero renews nothing (the file ledger's claims don't expire).
	RenewInterval time.Duration
	// Lease is a claim's lease (the table's --ledger-lease); zero: claims don't expire.
	// A job whose claim went unrenewed for a lease makes no further attempt.
	Lease time.Duration
	// ClaimsInFlight bounds the claims being written at once (zero: no bound). A claim
	// write a stalled ledger never answers may land after the run gave up, leaving a
	// claim without a call that the next run reports unknown: the bound is how many
	// such users a stall can leave.
	ClaimsInFlight int
	// ClaimAhead is how many jobs, beyond Workers, may be claimed while every call slot
	// is taken (zero: as many as Workers; negative: none). A job claims once its rate
	// token is in hand and then waits for one of the Workers call slots, so the claim's
	// write (the intent's fsync, the table's conditional write) runs while other calls
	// are in flight instead of holding a slot. Only while it pays: once a call has held
	// its slot no longer than claimAheadPays claims take (not before a first call has
	// finished; not while calls are slow, e.g. a Cognito that stopped answering), else a
	// job takes its slot first. Bounded on purpose: a kill -9 leaves at most Workers +
	// ClaimAhead claims without a row — `unknown` on resume — of which at most ClaimAhead
	// were never called. Without a Ledger it is none.
	ClaimAhead int
	// HeldRecheck is how soon a user another live owner holds is looked at again (zero:
	// HeldRecheckDefault), so that it resolves soon after the holder finishes. A queue's
	// job (Job.Defer) comes again when the holder's lease ends instead: each redelivery
	// counts toward the queue's maxReceiveCount.
	HeldRecheck time.Duration
	// Initial are rows recorded before the first job, through the same writer as every
	// other row (a resumed campaign's `unknown` rows): they are in the summary and
	// OnResult sees them.
	Initial []job.Result
	// OnResult observes every recorded result (metrics, progress). Called from the
	// writer goroutine after the row is durable.
	OnResult func(job.Result)
	// OnHeld, when set, observes the users waiting on another owner's claim: how many,
	// and the one waited on longest (its holder and lease). Called from the workers.
	OnHeld func(n int, oldest job.ClaimVerdict)
	// Budget, when set, is the daily send budget: taken before each user's first call,
	// given back when no message went out. Spent (or Cognito's daily cap answered, a
	// ClassSpent result), a finite source's run stops with a *budget.SpentError; a
	// queue's job waits at its queue until the next window (Job.Defer) and OnSpent
	// is told, so that the source stops receiving until then.
	Budget Budget
	// OnSpent observes each queue job put off by a spent budget (called from workers),
	// before its Defer.
	OnSpent func(job.Job, *budget.SpentError)
	// SettleTimeout bounds each ack/release call made after a stop (SettleBudget).
	SettleTimeout time.Duration
	// BatchSize caps the rows written between two fsyncs (group commit).
	BatchSize int
}

// Summary is what a run did.
type Summary struct {
	Counts   map[job.Status]int
	Rows     int
	Attempts int
	Released int
	// MayHaveCalled are the users released without a row whose call may have reached
	// Cognito (aborted by the hard stop, or its row not written): their claims are kept,
	// so a resume or another owner reports them unknown.
	MayHaveCalled []string
	// Deferred counts the times a job was put off because another owner held its user.
	Deferred int
	// Held is how many users were still waiting on another owner's claim at the end.
	Held     int
	Started  time.Time
	Finished time.Time
}

// busyMargin is added to the rest of another owner's lease before a Busy job comes
// again: by then that owner has renewed or finished.
const busyMargin = 250 * time.Millisecond

type settled struct {
	job   job.Job
	res   job.Result
	claim *claim // the claim this row settles (nil: none, e.g. a duplicate)
	// reason, for an unknown row, says why (Reason…), for its log line.
	reason string
}

// run is one Run's shared state.
type run struct {
	e     *Engine
	clk   clock.Clock
	log   *slog.Logger
	adm   *admit.Admitter
	held  *claims
	slots chan struct{} // ClaimsInFlight; nil: no bound
	calls chan struct{} // the Workers call slots when jobs claim ahead (ClaimAhead); nil: none
	// ahead: jobs claim before they take a call slot. Off until a call has finished
	// within claimAheadPays claims, off again when one holds its slot longer.
	ahead    atomic.Bool
	aheadMu  sync.Mutex
	aheadOn  chan struct{} // closed while ahead is on: the ClaimAhead claimers take jobs
	readDone chan struct{} // closed when the reader has ended
	waits    *waits
	defs     *deferrals
	results  chan settled
	dispatch context.Context
	fail     context.CancelCauseFunc
	settle   func() (context.Context, context.CancelFunc)

	mu  sync.Mutex
	sum *Summary
}

// Run processes jobs until the source ends, stop is done (soft stop: no new calls,
// in-flight calls finish) or a systemic error. kill aborts calls in flight (hard stop).
// It returns a *SystemicError, ErrInterrupted, a source, ledger or report error, or nil.
func (e *Engine) Run(stop, kill context.Context) (*Summary, error) {
	clk := clock.Must(e.Clock, "engine.Engine")
	workers := max(e.Workers, 1) // call slots
	batchSize := e.BatchSize
	if batchSize <= 0 {
		batchSize = BatchSizeDefault
	}
	settleTimeout := e.SettleTimeout
	if settleTimeout <= 0 {
		settleTimeout = SettleBudget
	}
	r := &run{e: e, clk: clk, log: e.logger(), adm: e.Admitter, held: newClaims(), waits: newWaits(),
		defs:    newDeferrals(clk),
		results: make(chan settled, (workers+e.claimAhead(workers))*2),
		settle: func() (context.Context, context.CancelFunc) {
			// The deadline of the ack, release and finish calls made after a stop: network
			// calls (SQS, the ledger table), so the machine's clock (CONTRIBUTING.md).
			return context.WithTimeout(context.WithoutCancel(stop), settleTimeout)
		},
		sum: &Summary{Counts: map[job.Status]int{}, Started: clk.Now()}}
	if r.adm == nil {
		r.adm = admit.New(admit.CaseInsensitive, nil)
	}
	if e.ClaimsInFlight > 0 {
		r.slots = make(chan struct{}, e.ClaimsInFlight)
	}
	ahead := e.claimAhead(workers)
	if ahead > 0 {
		r.calls = make(chan struct{}, workers)
	}
	r.aheadOn, r.readDone = make(chan struct{}), make(chan struct{})
	dispatch, cancelDispatch := context.WithCancelCause(stop)
	defer cancelDispatch(nil)
	r.dispatch, r.fail = dispatch, cancelDispatch

	// The renew loop outlives dispatch: calls in flight after a stop keep their claims
	// alive until their outcome is recorded.
	renewCtx, stopRenew := context.WithCancel(context.WithoutCancel(stop))
	var renewing sync.WaitGroup
	if e.Ledger != nil && e.RenewInterval > 0 {
		renewing.Go(func() {
			renewLoop(renewCtx, e.Ledger, r.held, e.RenewInterval, e.Lease, clk, r.log, func(err error) { cancelDispatch(err) })
		})
	}

	jobs := make(chan job.Job) // unbuffered: take from the source only what a worker starts
	var producers sync.WaitGroup
	producers.Go(func() { r.read(jobs) })
	for range workers {
		producers.Go(func() {
			for j := range jobs {
				r.work(kill, j)
			}
		})
	}
	// The claimers beyond Workers take jobs only while jobs claim ahead: otherwise they
	// would only wait for a slot, and jobs would no longer start in the source's order.
	for range ahead {
		producers.Go(func() {
			for r.waitAhead() {
				j, ok := <-jobs
				if !ok {
					return
				}
				r.work(kill, j)
			}
		})
	}
	go func() { producers.Wait(); close(r.results) }()

	writeErr := r.write(batchSize)
	stopRenew()
	renewing.Wait()
	r.sum.Finished = clk.Now()
	r.sum.Held, _ = r.waits.oldest()

	cause := context.Cause(dispatch)
	switch {
	case writeErr != nil:
		return r.sum, writeErr
	case cause == nil:
		return r.sum, nil
	case errors.Is(cause, ErrLedger):
		return r.sum, cause // even when the ledger's last error was a timeout
	case errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded):
		// The stop context ended the run (a signal, or the caller's deadline).
		return r.sum, ErrInterrupted
	}
	return r.sum, cause
}

// claimAhead is ClaimAhead resolved: the jobs that may be claimed beyond the call slots.
func (e *Engine) claimAhead(workers int) int {
	switch {
	case e.Ledger == nil || e.ClaimAhead < 0:
		return 0
	case e.ClaimAhead == 0:
		return workers
	}
	return e.ClaimAhead
}

// Claimers is how many of a run's jobs can be claiming at once: Workers, plus the jobs
// claimed ahead of a call slot (ClaimAhead). It is the denominator of the share of
// their time spent waiting on the ledger.
func (e *Engine) Claimers() int {
	w := max(e.Workers, 1)
	return w + e.claimAhead(w)
}

// takeCall takes one of the Workers call slots (ClaimAhead), or fails once dispatch
// ends; it returns the slot's release. Without claim-ahead every worker is a call slot.
func (r *run) takeCall() (func(), error) {
	if r.calls == nil {
		return func() {}, nil
	}
	select {
	case r.calls <- struct{}{}:
		if r.dispatch.Err() != nil { // a slot freed by the stop itself: no call after it
			<-r.calls
			return nil, context.Cause(r.dispatch)
		}
		return func() { <-r.calls }, nil
	case <-r.dispatch.Done():
		return nil, context.Cause(r.dispatch)
	}
}

// release gives a job back to its source without a row. A claim c is given back to the
// ledger too: released when no call may have reached Cognito, else kept (a resume or
// another owner then reports the user unknown rather than risk a second code).
func (r *run) release(j job.Job, c *claim, mayHaveCalled bool) {
	r.adm.Forget(j.Username)
	if c != nil {
		r.held.drop(c)
		r.releaseClaim(j, mayHaveCalled)
	}
	r.mu.Lock()
	r.sum.Released++
	if c != nil && mayHaveCalled {
		r.sum.MayHaveCalled = append(r.sum.MayHaveCalled, j.Username)
	}
	r.mu.Unlock()
	r.giveBack(j)
}

// releaseClaim gives j's claim back to the ledger under the settle budget (a stop may
// have come): released when no call may have reached Cognito, else kept (Ledger.Release).
func (r *run) releaseClaim(j job.Job, mayHaveCalled bool) {
	ctx, cancel := r.settle()
	defer cancel()
	r.e.Ledger.Release(ctx, j, mayHaveCalled)
}

// giveBack makes a job available again at its source (its Release).
func (r *run) giveBack(j job.Job) {
	if j.Release == nil {
		return
	}
	ctx, cancel := r.settle()
	defer cancel()
	if err := j.Release(ctx); err != nil {
		r.log.Warn("release failed", "source_ref", j.SourceRef, "error", err)
	}
}

// read is the reader: the source's jobs through the admit rule, and the deferred jobs
// whose wait is over, to the workers. The run ends when the source has ended, nothing
// is deferred and no worker holds a job.
func (r *run) read(jobs chan<- job.Job) {
	defer close(r.readDone)
	defer close(jobs)
	defer func() {
		for _, j := range r.defs.close() {
			r.release(j, nil, false)
		}
	}()
	for _, res := range r.e.Initial {
		r.results <- settled{res: res, reason: ReasonIntentWithoutOutcome}
	}
	hand := func(j job.Job) bool {
		r.defs.handing()
		select {
		case jobs <- j:
			return true
		case <-r.dispatch.Done():
			r.defs.done()
			r.release(j, nil, false)
			return false
		}
	}
	srcDone := false
	for {
		if j, ok := r.defs.take(); ok {
			if !hand(j) {
				return
			}
			continue
		}
		if srcDone {
			if !r.defs.wait(r.dispatch) {
				return
			}
			continue
		}
		j, err := r.e.Source.Next(r.dispatch)
		if err != nil {
			if !errors.Is(err, io.EOF) || r.dispatch.Err() != nil {
				if !errors.Is(err, io.EOF) && r.dispatch.Err() == nil {
					r.fail(fmt.Errorf("source: %w", err))
				}
				return
			}
			srcDone = true
			continue
		}
		if row, send := r.adm.Admit(j); !send {
			now := r.clk.Now().UTC()
			row.StartedAt, row.FinishedAt = now, now
			r.results <- settled{job: j, res: row}
			continue
		}
		if !hand(j) {
			return
		}
	}
}

// work runs one job in a worker: verify, a look at the ledger, then the call, whose
// first attempt claims the user once its rate token is in hand (gate): a job that only
// waits for a token leaves nothing behind that says a call may have been made.
func (r *run) work(kill context.Context, j job.Job) {
	defer r.defs.done()
	if r.dispatch.Err() != nil {
		r.release(j, nil, false)
		return
	}
	if r.e.Verifier != nil {
		var send bool
		done, err := r.takeCall() // the verifier's reads are calls too
		if err != nil {
			r.release(j, nil, false)
			return
		}
		res := r.process(j, func() job.Result {
			res, ok := r.e.Verifier.Verify(r.dispatch, kill, j)
			send = ok
			if ok && res.Message != "" {
				j.Message = res.Message // which message the user's state calls for
			}
			return res
		})
		if !send {
			r.settleJob(j, nil, res) // nothing was sent: nothing to claim
			done()                   // after a systemic verdict has stopped dispatch
			return
		}
		done()
	}
	if r.e.Ledger == nil && r.e.Budget == nil {
		r.settleJob(j, nil, r.process(j, func() job.Result { return r.e.Processor.Send(r.dispatch, kill, j, nil) }))
		return
	}
	if r.e.Ledger != nil {
		// A user sent recently, or held by another owner, costs a ledger read, not a token.
		v, err := r.e.Ledger.Peek(r.dispatch, j)
		if err != nil {
			r.ledgerFailed(j, err, false)
			return
		}
		if v.Kind != job.Won {
			r.verdict(j, v)
			return
		}
	}
	jobStop, cancel := context.WithCancelCause(r.dispatch)
	defer cancel(nil)
	g := &gate{r: r, j: j, cancel: cancel}
	res := r.process(j, func() job.Result { return r.e.Processor.Send(jobStop, kill, j, g.pass) })
	g.called()
	if g.taken && res.Class != job.ClassNone && !res.Ambiguous {
		// No message went out (released before the call, or a definite non-send): the
		// send goes back to its window.
		ctx, cancel := r.settle()
		if err := r.e.Budget.Give(ctx, g.window); err != nil {
			r.log.Warn("budget: a send not made could not be given back", "username", j.Username, "error", err)
		}
		cancel()
	}
	switch {
	case g.err != nil:
		r.ledgerFailed(j, g.err, g.claimed)
	case g.refused:
		r.verdict(j, g.v)
	case g.spent != nil:
		r.spent(j, nil, false, g.spent)
	default:
		r.settleJob(j, g.c, res) // g.c nil: no token came (a stop), nothing was claimed
	}
}

// spent puts off a job that may not call before the next window (the budget spent, or
// Cognito's daily cap answered): no row. Its claim (c) is given back (kept when an
// attempt may have reached Cognito). A queue's job waits at its queue until the next
// window; any other stops the run with se (exit 4: budget spent, more to do).
func (r *run) spent(j job.Job, c *claim, mayHaveCalled bool, se *budget.SpentError) {
	r.doneWaiting(j)
	if j.Defer == nil {
		if r.dispatch.Err() == nil {
			r.log.Info("daily budget spent: stopping", "next_window", se.Next.UTC().Format(time.RFC3339), "cap", se.Cap)
		}
		r.fail(se)
		r.release(j, c, mayHaveCalled)
		return
	}
	if c != nil {
		r.held.drop(c)
		r.releaseClaim(j, mayHaveCalled)
	}
	if r.e.OnSpent != nil {
		r.e.OnSpent(j, se)
	}
	r.deferJob(j, max(r.clk.Until(se.Next), 0))
}

// capSpent is the SpentError of Cognito's daily cap answered now.
func (r *run) capSpent() *budget.SpentError {
	next := budget.Schedule{}.Next(r.clk.Now()) // no budget configured: windows at 00:00 UTC
	if r.e.Budget != nil {
		next = r.e.Budget.Next()
	}
	return &budget.SpentError{Next: next, Cap: true}
}

// gate is a job's Processor gate: the claim once the first rate token is in hand, and
// before every later attempt the check that the claim's lease is still running.
type gate struct {
	r      *run
	j      job.Job
	cancel context.CancelCauseFunc

	passed  bool             // the first attempt's gate was passed: claimed, budget taken
	c       *claim           // the claim, once won
	claimed bool             // a claim was attempted (it may have been written)
	refused bool             // the claim found v
	v       job.ClaimVerdict //
	err     error            // the ledger (or the budget's counter) could not be written
	taken   bool             // a send was taken from the budget's window
	window  time.Time        //
	spent   *budget.SpentError
	// callDone gives back the job's call slot (ClaimAhead); claimTook is how long its
	// claim took, calledAt when it had both claim and slot: its first call.
	callDone  func()
	claimTook time.Duration
	calledAt  time.Time
}

func (g *gate) pass(int) error {
	r := g.r
	if g.passed {
		if g.c != nil && !r.held.live(g.c, r.clk.Now(), r.e.Lease) {
			return ErrLeaseLapsed
		}
		return nil
	}
	if r.e.Ledger != nil {
		if !r.ahead.Load() {
			// Not claiming ahead (calls are slow beside claims, or none has finished
			// yet): the slot first, then the claim in it, as without ClaimAhead.
			if err := g.takeCall(); err != nil {
				return err
			}
		}
		t0 := r.clk.Now()
		if err := g.claim(); err != nil {
			return err
		}
		g.claimTook = r.clk.Since(t0)
	}
	if r.e.Budget != nil {
		w, err := r.e.Budget.Take(r.dispatch)
		if err != nil {
			// No call: the claim goes back (ledgerFailed or spent release it).
			if g.c != nil {
				r.held.drop(g.c)
				g.c = nil
			}
			var se *budget.SpentError
			if errors.As(err, &se) {
				g.spent = se
				if g.claimed {
					r.releaseClaim(g.j, false)
				}
			} else {
				g.err = fmt.Errorf("daily budget: %w", err)
			}
			return err
		}
		g.taken, g.window = true, w
	}
	if g.callDone == nil {
		// Claimed ahead (and the send taken): now a call slot. A stop meanwhile makes no
		// call, and the claim goes back. A wait longer than the claims take means the
		// calls hold their slots long: the next jobs take a slot before they claim.
		t0 := r.clk.Now()
		if err := g.takeCall(); err != nil {
			return err
		}
		if r.clk.Since(t0) > claimAheadPays*g.claimTook {
			r.setAhead(false)
		}
	}
	g.calledAt = r.clk.Now()
	g.passed = true
	return nil
}

// setAhead turns claiming ahead on or off.
func (r *run) setAhead(on bool) {
	r.aheadMu.Lock()
	defer r.aheadMu.Unlock()
	switch was := r.ahead.Swap(on); {
	case on && !was:
		close(r.aheadOn)
	case !on && was:
		r.aheadOn = make(chan struct{})
	}
}

// waitAhead waits until jobs claim ahead (true) or the reader has ended (false).
func (r *run) waitAhead() bool {
	r.aheadMu.Lock()
	on := r.aheadOn
	r.aheadMu.Unlock()
	select {
	case <-on:
		return true
	case <-r.readDone:
		return false
	}
}

// claimAheadPays: claiming ahead of a call slot pays while a call holds its slot no
// longer than this many claims take. Beyond, the claim's wait is a small part of a slot's
// time and a claim made ahead would only wait, a user `unknown` without a call if the
// process is killed meanwhile: jobs take a slot first.
const claimAheadPays = 4

// takeCall takes a call slot for the job's calls (released after its Send).
func (g *gate) takeCall() error {
	done, err := g.r.takeCall()
	if err != nil {
		return err
	}
	g.callDone = done
	return nil
}

// called is the end of a job's calls, its slot given back: how long they held the slot
// beside how long its claim took says whether the next jobs claim ahead (claimAheadPays).
func (g *gate) called() {
	if g.callDone == nil {
		return
	}
	r := g.r
	if g.passed && g.claimed && r.calls != nil {
		r.setAhead(r.clk.Since(g.calledAt) <= claimAheadPays*g.claimTook)
	}
	g.callDone()
}

// claim claims the user once the first rate token is in hand.
func (g *gate) claim() error {
	r := g.r
	if r.slots != nil {
		select {
		case r.slots <- struct{}{}:
			defer func() { <-r.slots }()
		case <-r.dispatch.Done():
			return context.Cause(r.dispatch) // stopping: nothing claimed
		}
	}
	asked := r.clk.Now() // the lease runs from here at the latest
	g.claimed = true
	v, err := r.e.Ledger.Claim(r.dispatch, g.j)
	switch {
	case err != nil:
		g.err = err
		return err
	case v.Kind != job.Won:
		g.refused, g.v = true, v
		return errRefused
	}
	g.c = r.held.add(g.j, g.cancel, asked)
	return nil
}

// logHeld says that j's user waits on another owner's claim, and on whom the wait is
// longest.
func (r *run) logHeld(j job.Job, v job.ClaimVerdict, n int, oldest job.ClaimVerdict) {
	r.log.Info("user held by another owner's claim; looking again soon", "username", j.Username,
		"holder_campaign", v.Campaign, "holder_replica", v.Owner, "holder_lease_until", v.At.UTC().Format(time.RFC3339Nano),
		"users_held", n, "oldest_holder_campaign", oldest.Campaign, "oldest_holder_replica", oldest.Owner,
		"oldest_holder_lease_until", oldest.At.UTC().Format(time.RFC3339Nano))
}

// doneWaiting forgets that j waited on another owner's claim.
func (r *run) doneWaiting(j job.Job) {
	if r.waits.done(j.SourceRef) {
		r.onHeld()
	}
}

func (r *run) onHeld() {
	if r.e.OnHeld != nil {
		r.e.OnHeld(r.waits.oldest())
	}
}

// ledgerFailed gives back a job whose ledger step failed and stops the campaign (unless
// it is stopping already: the error may be the stop's). A claim attempted may have been
// written before the error: it is released (no call was made).
func (r *run) ledgerFailed(j job.Job, err error, claimed bool) {
	if r.dispatch.Err() == nil {
		// Calling without a durable claim would break the no-second-code promise.
		r.fail(fmt.Errorf("%w: %w", ErrLedger, err))
	}
	if claimed && r.e.Ledger != nil {
		r.releaseClaim(j, false)
	}
	r.release(j, nil, false)
}

// verdict settles or defers a job whose claim found someone else's record: a row
// without a call (RecentlySent, Expired), or a look again soon (Busy).
func (r *run) verdict(j job.Job, v job.ClaimVerdict) {
	if v.Kind != job.Busy {
		r.doneWaiting(j)
		reason := ""
		if v.Kind == job.Expired {
			reason = ReasonLeaseExpired
		}
		r.results <- settled{job: j, res: v.Row(j, r.clk.Now().UTC()), reason: reason}
		return
	}
	d := max(r.clk.Until(v.At), 0) + busyMargin
	if j.Defer != nil {
		// A queue's message goes back to its queue until the holder's lease ends: every
		// redelivery counts toward the queue's maxReceiveCount (and another replica may
		// take it).
		r.deferJob(j, d)
		return
	}
	if first, n, oldest := r.waits.add(j.SourceRef, v, r.clk.Now()); first {
		r.logHeld(j, v, n, oldest)
	}
	r.onHeld()
	recheck := r.e.HeldRecheck
	if recheck <= 0 {
		recheck = HeldRecheckDefault
	}
	r.deferJob(j, min(d, recheck))
}

// settleJob hands a job's result to the writer, or gives the job back (canceled,
// systemic, claim lost).
func (r *run) settleJob(j job.Job, c *claim, res job.Result) {
	r.doneWaiting(j)
	switch {
	case res.Class == job.ClassCanceled && c != nil && r.held.isLapsed(c) && res.Ambiguous:
		// An attempt may have reached Cognito, and our lease lapsed before the next one:
		// unknown, as any other owner meeting the claim has judged it. Never retried here.
		r.results <- settled{job: j, res: lapsedRow(j, res, r.e.Lease, r.clk.Now().UTC()), claim: c,
			reason: ReasonLeaseLapsed}
		return
	case res.Class == job.ClassCanceled && c != nil && r.held.isLapsed(c) && r.dispatch.Err() == nil:
		// No attempt could have reached Cognito: give the claim back and claim it again
		// (it may be someone else's now).
		r.held.drop(c)
		r.releaseClaim(j, false)
		r.reclaim(j)
		return
	case res.Class == job.ClassCanceled && c != nil && r.held.isLost(c) && r.dispatch.Err() == nil:
		// Another owner met the user after our lease ran out: not ours to settle. Claim
		// it again for its row (Busy or unknown), at the source or here.
		r.held.drop(c)
		r.reclaim(j)
		return
	case res.Class == job.ClassCanceled:
		r.release(j, c, res.Ambiguous)
		return
	case res.Class == job.ClassSpent:
		// Cognito's daily cap: nothing was sent, and nothing will be before the next
		// window. Not the user's fault: no row, like the budget found spent.
		r.spent(j, c, res.Ambiguous, r.capSpent())
		return
	case res.Class == job.ClassSystemic:
		// The user isn't at fault: no row, give the job back, stop the campaign.
		r.fail(&SystemicError{Code: res.ErrorCode, Message: res.ErrorMessage, Fix: res.Fix})
		r.log.Error("systemic error, stopping", "username", res.Username, "error_code", res.ErrorCode)
		r.release(j, c, res.Ambiguous)
		return
	}
	if j.Release != nil && res.Redeliver() {
		r.adm.Forget(j.Username) // its redelivery is not a duplicate
	}
	r.results <- settled{job: j, res: res, claim: c}
}

// reclaim dispatches a job again, at its source or here, to be claimed again.
func (r *run) reclaim(j job.Job) {
	if j.Release != nil {
		r.adm.Forget(j.Username)
		r.giveBack(j)
	} else if !r.defs.add(j, 0) {
		r.release(j, nil, false)
	}
}

// deferJob puts off a job whose user another owner holds: back to its source to come
// again after d (SQS: visibility), or kept here for d.
func (r *run) deferJob(j job.Job, d time.Duration) {
	r.mu.Lock()
	r.sum.Deferred++
	r.mu.Unlock()
	if j.Defer == nil {
		if !r.defs.add(j, d) {
			r.release(j, nil, false)
		}
		return
	}
	r.adm.Forget(j.Username) // it comes again as a new delivery
	ctx, cancel := r.settle()
	defer cancel()
	if err := j.Defer(ctx, d); err != nil {
		r.log.Warn("defer failed", "source_ref", j.SourceRef, "error", err)
	}
}

// write is the writer, the only goroutine touching the report: each group of rows is
// written and made durable (flush + fsync), the outcomes of its claims are recorded in
// the ledger, and only then are its jobs acked.
func (r *run) write(batchSize int) error {
	var writeErr error
	records.GroupCommit(r.results, batchSize, nil, func(group []settled) {
		if writeErr == nil {
			for _, s := range group {
				if err := r.e.Report.Write(s.res); err != nil {
					writeErr = fmt.Errorf("report: %w", err)
					r.fail(writeErr)
					break
				}
			}
		}
		if writeErr == nil {
			if err := r.e.Report.Sync(); err != nil {
				writeErr = fmt.Errorf("report: %w", err)
				r.fail(writeErr)
			}
		}
		if writeErr != nil {
			for _, s := range group {
				// The call happened but its row can't be recorded: keep the claim.
				r.release(s.job, s.claim, true)
			}
			return
		}
		finishErrs := r.finish(group)
		ctx, cancel := r.settle()
		defer cancel()
		for i, s := range group {
			r.held.drop(s.claim)
			switch err := finishErrs[i]; {
			case err != nil:
				// The row is durable, its outcome is not in the ledger: no ack. The claim
				// stays and expires, so whoever meets the user reports them unknown.
				r.fail(fmt.Errorf("%w: %w", ErrLedger, err))
				r.log.Error("ledger: outcome not recorded; the claim is left to expire", "username", s.res.Username,
					"error", err)
				r.giveBack(s.job)
			case s.job.Ack != nil:
				if err := s.job.Ack(ctx, s.res); err != nil {
					r.log.Warn("ack failed", "username", s.res.Username, "source_ref", s.job.SourceRef, "error", err)
				}
			}
			if s.res.Status == job.StatusUnknown {
				r.logUnknown(s)
			}
			r.sum.Rows++
			r.sum.Counts[s.res.Status]++
			r.sum.Attempts += s.res.Attempts
			if r.e.OnResult != nil {
				r.e.OnResult(s.res)
			}
		}
	})
	return writeErr
}

// finish records the outcome of each claimed row of a group in the ledger, a few at a
// time (one ledger call each, with its own settle budget), and returns their errors by
// index.
func (r *run) finish(group []settled) []error {
	errs := make([]error, len(group))
	if r.e.Ledger == nil {
		return errs
	}
	if o, ok := r.e.Ledger.(rowIsOutcome); ok && o.RowIsOutcome() {
		return errs // nothing to record: no goroutine nor settle budget a row
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(r.e.Workers, 1))
	for i, s := range group {
		if s.claim == nil {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ctx, cancel := r.settle()
			defer cancel()
			errs[i] = r.e.Ledger.Finish(ctx, s.job, s.res)
		})
	}
	wg.Wait()
	return errs
}

// process runs one of a job's stages (verify, resend), turning a panic into that user's
// failed row.
func (r *run) process(j job.Job, stage func() job.Result) (res job.Result) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("panic in job", "username", j.Username, "panic", fmt.Sprint(p),
				"stack", string(debug.Stack()))
			now := r.clk.Now().UTC()
			// The call may have been made before the panic: keep the claim (Ambiguous).
			res = job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusFailed,
				ErrorCode: "Panic", ErrorMessage: fmt.Sprint(p), Class: job.ClassPerUser,
				Attempts: max(res.Attempts, 1), StartedAt: now, FinishedAt: now, Ambiguous: true}
		}
	}()
	return stage()
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}
