package campaign

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/metrics"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

var _ engine.Processor = (*cognito.Resender)(nil)

// Progress watches a run as it goes; the command renders it (a bar, log lines).
type Progress interface {
	// Start is called once, before the first row: total is the number of rows the run
	// will record (-1: unknown, or no end to count toward), rate the limiter's rate now.
	Start(total int, rate func() float64)
	// Observe sees every row once it is durable.
	Observe(job.Result)
	// Stopping is called once, at the first stop signal, with the ResendConfirmationCode
	// calls in flight then and how long they may take (--shutdown-timeout) before the
	// hard stop aborts them.
	Stopping(inFlight int, wait time.Duration)
	// Finish is called once the engine has stopped.
	Finish()
}

// HeldObserver is a Progress that also shows the users waiting on other owners' claims
// (engine.Engine.OnHeld).
type HeldObserver interface {
	Held(n int, oldest job.ClaimVerdict)
}

// noProgress renders nothing.
type noProgress struct{}

func (noProgress) Start(int, func() float64)   {}
func (noProgress) Observe(job.Result)          {}
func (noProgress) Stopping(int, time.Duration) {}
func (noProgress) Finish()                     {}

// Outcome is how a run ended.
type Outcome struct {
	Summary    *engine.Summary
	Throttles  int64   // TooManyRequestsException answers
	Rate       float64 // the limiter's rate at the end
	ReportPath string
	// UsernameCase is the case rule the dedupe followed, and why.
	UsernameCase string
	// VerifyCalls counts AdminGetUser calls (--verify-users), the start-up check included.
	VerifyCalls int64
	// Attempts counts every ResendConfirmationCode attempt, those of users left without
	// a row included.
	Attempts int64
	// Total is the number of rows this run would have written had it reached its end
	// (-1: unknown — standard input, a queue). Rows left:
	// Total - Summary.Rows.
	Total int
	// SendsLeft is how many users to send the census counted are left without a row (-1:
	// not counted): Total - Summary.Rows without the invalid and duplicate rows to come,
	// which take no budget (sendsLeft).
	SendsLeft int
	// Campaign counts the whole campaign's rows, earlier runs and this one (nil: no
	// earlier run — this run is the campaign).
	Campaign *records.Tally
	// Redelivers: the source is a queue, which keeps what has no row.
	Redelivers bool
	// Stopped is why the campaign stopped before its end: a systemic error, a signal,
	// the report or ledger failing (users not attempted have no row). It is nil when the
	// run reached its end, and when a worker on a redelivering source (a queue) was told
	// to stop: that is its normal end, and nothing is lost.
	Stopped error
	// LimitDue is when the last limit_exceeded user of the campaign is past their hour.
	LimitDue time.Time
	// VerifyRate is the --verify-users limiter's rate at the end (0: no check per user):
	// the run's pace is the lower of it and Rate.
	VerifyRate float64
	// ListPages and ListLookups count this process's ListUsers calls: pages of listings
	// (the pool source's, the --verify-users census) and lookups of one user by name.
	// None of them makes a user a billed monthly active user.
	ListPages, ListLookups int64
	// Invitations counts every AdminCreateUser RESEND attempt (--invitations; the
	// start-up check not included); InvitationRate is its limiter's rate at the end (0:
	// no --invitations).
	Invitations    int64
	InvitationRate float64
	// Sent counts this run's sent rows by message.
	Sent map[job.Message]int
	// Budget is the daily budget at the end (Limit 0: no --daily-budget).
	Budget BudgetState
	// Signalled: the run was told to stop (its stop context, a signal) — whatever else
	// stopped it too, e.g. the budget: the exit code is a signal's.
	Signalled bool
}

// BudgetState is the daily budget as a run ended.
type BudgetState struct {
	Limit int       // --daily-budget (0: none)
	Spent int       // the current window's sends, as last seen by this process
	Next  time.Time // when the next window opens
	Reset string    // --budget-reset, "HH:MM UTC"
}

// Spent is the *budget.SpentError that stopped the campaign (nil: it was not the budget
// nor Cognito's daily cap): exit 4, more to do in the next window.
func (o *Outcome) Spent() *budget.SpentError {
	var se *budget.SpentError
	if errors.As(o.Stopped, &se) {
		return se
	}
	return nil
}

// MayHaveCalled are the users left without a row whose call may have reached Cognito
// (aborted by the hard stop, or its row not written): their intent or claim is kept, so
// --resume (or another owner of the table) reports them unknown and calls them no more.
func (o *Outcome) MayHaveCalled() []string { return o.Summary.MayHaveCalled }

// Failed is the number of rows that are `failed`.
func (o *Outcome) Failed() int { return o.Summary.Counts[job.StatusFailed] }

// Latest is the number of the campaign's rows of status st, each line by its last row:
// this run's and, when resumed, the earlier runs' not superseded since.
func (o *Outcome) Latest(st job.Status) int {
	if o.Campaign != nil {
		return o.Campaign.Counts[st]
	}
	return o.Summary.Counts[st]
}

// stopError is an Outcome.Stopped: its message is for the operator, its cause for
// errors.Is/As.
type stopError struct {
	msg   string
	cause error
}

func (e *stopError) Error() string { return e.msg }
func (e *stopError) Unwrap() error { return e.cause }

// Run runs the campaign: source → admit → verify → claim → limiter → resender → report → finish → ack.
// progress (nil: none) watches it. stop is the soft stop (no new calls; calls in flight finish, for up to
// --shutdown-timeout), kill the hard stop (abort them). An error means the campaign
// could not start (a usage error: nothing was called); otherwise the Outcome says how
// it ended.
func (c *Campaign) Run(stop, kill context.Context, progress Progress) (out *Outcome, err error) {
	defer func() {
		if err != nil {
			c.discardSnapshot() // could not start: no orphan <report>.pool
		}
	}()
	cfg, log := c.cfg, c.log
	if progress == nil {
		progress = noProgress{}
	}
	// run is stop, or the breaker giving up on Cognito (an outage): either ends dispatch.
	run, abort := context.WithCancelCause(stop)
	defer abort(nil)
	if c.census == nil && c.cheaplyCountable() {
		// A file costs a fraction of a second to count (docs/options.md): the progress total and
		// ETA, and the rows left if the run stops.
		if _, err := c.Census(run); err != nil {
			return nil, err
		}
	}
	var m *metrics.Metrics // nil records nothing: no --metrics-addr
	if cfg.MetricsAddr != "" {
		m = metrics.New()
	}
	if err := c.Prepare(run); err != nil {
		return nil, err
	}
	s, err := c.openSource(run, log, m)
	if err != nil {
		return nil, err
	}
	r, err := c.resume(s.Redelivers())
	if err != nil {
		return nil, errors.Join(err, s.close(context.WithoutCancel(stop)))
	}
	if r.state == nil && cfg.Resume {
		log.Info("no report yet: starting the campaign", "report", c.reportPath)
	}
	s.logHeader(log)
	if st := r.state; st != nil {
		r.skipRecorded(s, c.lineMismatch(r, true))
		log.Info("resuming campaign", "report", c.reportPath, "rows", st.Rows,
			"final_users", st.Final.Len(), "unknown", len(st.Unknown), "retry", st.Retry, "torn_lines", st.Skipped)
	}
	// A resumed CSV or pool campaign applies the supersede rule to the rows it adds (a
	// queue's worker runs for days: it only counts, below).
	tally := r.state
	if s.Redelivers() {
		tally = nil
	}
	var limitDue time.Time // of the campaign's limit_exceeded rows (the writer goroutine's)
	if tally != nil {
		limitDue = tally.LimitDue
	}
	claims, err := c.openTable(log, m)
	if err != nil {
		return nil, errors.Join(err, s.close(context.WithoutCancel(stop)))
	}
	report, fileLedger, err := c.openRecords(r, log, claims == nil)
	if err != nil {
		return nil, errors.Join(err, s.close(context.WithoutCancel(stop)))
	}
	if claims == nil {
		claims = &claimLedger{Ledger: fileLedger, file: fileLedger}
	}
	defer claims.close() //nolint:errcheck // closed (and checked) below; this covers early returns
	bud := c.newBudget(r, claims.table)

	// --fleet-rate replaces --rate: the limiter's ceiling is this replica's share of it,
	// set by the fleet (joinFleet, below) before the first call; the adaptive controller
	// steers below it (the rate is min(ceiling, the controller's)).
	limiter := pacing.NewLimiter(pacing.LimiterConfig{Rate: c.ceiling(), Burst: cfg.Burst, Adaptive: cfg.Adaptive,
		Reserve: cfg.Reserve, Clock: c.clock})
	breaker := &pacing.Breaker{Limiter: limiter, OnTrip: m.BreakerTripped, Clock: c.clock}
	c.watchOutage(breaker, abort)
	// --verify-users calls the same endpoint first
	c.watchOutage(c.verifyBreaker, abort)
	// inFlight: every Cognito send in flight, a resend or an invitation
	var attempts, inFlight atomic.Int64
	resender := c.newResender(countingAPI{Client: newCognito(*c.aws), n: &inFlight}, limiter, breaker, log) // aws: loaded by openSource
	resender.OnAttempt = func(o cognito.Outcome, latency time.Duration) {
		attempts.Add(1)
		m.ObserveAttempt(o, latency)
	}
	inv := c.openInvitations(m, abort, &inFlight) // --invitations: AdminCreateUser RESEND, its own limiter
	// A queue worker holds no message while Cognito does not answer (gate.go).
	processor, verifier := c.guardQueue(run, s, resender, inv.processor(resender), abort,
		append([]*pacing.Breaker{breaker, c.verifyBreaker}, inv.breakers()...)...)
	sent := map[job.Message]int{} // the writer goroutine's, read once the engine is done
	var whole *records.Tally      // the campaign so far, when this run continues one
	if r.state != nil {
		whole = r.state.Tally
	}
	c.verifier.OnAttempt = func(o cognito.Outcome, latency time.Duration) { m.ObserveVerify(o, latency) }
	eng := &engine.Engine{
		Source:    s,
		Processor: processor,
		Report:    report,
		Workers:   cfg.Workers,
		Logger:    log,
		Clock:     c.clock,
		Admitter:  admit.New(c.rule.Case, r.final()),
		Verifier:  verifier,
		Ledger:    claims.Ledger,
		// A table's claims have a lease, renewed while a job waits or retries.
		RenewInterval: claims.renewEvery,
		Lease:         claims.lease,
		// A stalled table can land a claim write after the run gave up: bound them.
		ClaimsInFlight: claims.inFlight,
		Initial:        r.unknown,
		OnResult: func(res job.Result) {
			m.ObserveResult(res)
			if res.Status == job.StatusSent {
				sent[res.Message.Or()]++
			}
			progress.Observe(res)
			switch {
			case tally != nil:
				tally.Record(res) // the supersede rule, its Tally included
			case whole != nil:
				r.state.Count(res) // a queue: counts only (its worker runs for days)
			}
			if due := res.LimitDue(); due.After(limitDue) {
				limitDue = due
			}
		},
		// Acks after the stop share the settle budget.
		SettleTimeout: engine.SettleBudget,
		Budget:        bud,
	}
	if q, ok := s.pauser.(idler); ok {
		// A queue worker waits out a spent budget (or the daily cap) without receiving.
		pause := &budgetPause{src: q, clock: c.clock, log: log}
		defer pause.stop()
		eng.OnSpent = func(_ job.Job, se *budget.SpentError) { pause.spent(se) }
		if cfg.DailyBudget > 0 {
			pause.atStart(run, bud)
		}
	}
	if h, ok := progress.(HeldObserver); ok {
		eng.OnHeld = h.Held
	}
	// The fleet: the others count this replica before its first call; it leaves once
	// its calls have stopped, and on every early return.
	member, err := c.joinFleet(run, log, m, claims.owner, c.ceilings(limiter, inv))
	if member != nil {
		defer member.Leave(context.WithoutCancel(stop)) //nolint:errcheck // logged; left below, this covers early returns
	}
	if err != nil {
		err = errors.Join(err, s.close(context.WithoutCancel(stop)), report.Close(), claims.close())
		c.discardFresh(r) // no call was made: leave nothing behind
		return nil, err
	}
	if m != nil {
		m.WatchRate(limiter.Rate)
		m.WatchBreaker(breaker.Open)
		m.WatchOutage(c.outageSeconds(breaker))
		m.WatchBudget(bud.Limit, bud.Seen, bud.Next)
		if c.checksUsers() {
			m.WatchVerifyRate(c.verifyLimiter.Rate)
		}
		srv, err := c.serveMetrics(run, m, s)
		if err != nil {
			err = errors.Join(err, s.close(context.WithoutCancel(stop)), report.Close(), claims.close())
			c.discardFresh(r)
			return nil, err
		}
		defer srv.Close(context.WithoutCancel(stop)) //nolint:errcheck // best effort at exit
	}

	kill, cancelKill := hardStop(run, kill, cfg.ShutdownTimeout, c.clock)
	defer cancelKill()

	total := c.total(s, r)
	progress.Start(total, limiter.Rate)
	// The first signal says at once what happens next: the calls in flight finish (up to
	// --shutdown-timeout) unless a second signal aborts them.
	stopNotice := context.AfterFunc(stop, func() {
		progress.Stopping(int(inFlight.Load()), cfg.ShutdownTimeout)
	})
	defer stopNotice()
	desc := append(s.desc, "report", c.reportPath, "region", c.target.Region, "endpoint", c.target.Endpoint,
		"rate", limiter.Rate(), "reserve", cfg.Reserve, "workers", cfg.Workers, "username_case", c.rule.String())
	if member != nil {
		desc = append(desc, "fleet", member.Name(), "fleet_rate", member.Budget(), "fleet_replicas", member.Alive())
	}
	if total >= 0 {
		desc = append(desc, "total", total)
	}
	if c.checksUsers() {
		desc = append(desc, "verify_users", true, "verify_with", cfg.VerifyWith, "verify_rate", c.checkRate(), "verify_user_pool_id", cfg.UserPoolID)
	} else if cfg.VerifyUsers && !cfg.PoolSource() {
		desc = append(desc, "verify_users", true, "verify_with", cfg.VerifyWith, "verify_user_pool_id", cfg.UserPoolID)
	}
	if inv != nil {
		desc = append(desc, "invitations", true, "invitation_rate", inv.rate(),
			"invitation_delivery", cmp.Or(cfg.InvitationMedium(), "unset (Cognito's default: SMS)"))
	}
	desc = append(desc, claims.desc...)
	if bud.Limit > 0 {
		_, _, spent, err := bud.Status(run)
		if err != nil {
			log.Warn("daily budget: the window's count could not be read", "error", err)
		}
		desc = append(desc, "daily_budget", bud.Limit, "budget_reset", bud.Schedule.String(), "window_spent", spent,
			"next_window", bud.Next().UTC().Format(time.RFC3339))
	}
	if size := cfg.ReportRotateSize(); size > 0 {
		desc = append(desc, "report_max_size", config.ByteSize(size).String(), "report_keep", cfg.ReportKeep)
	}
	log.Info("campaign starting", desc...)
	if len(r.unknown) > 0 {
		log.Warn("users reported unknown: their call may have reached Cognito; not calling them again",
			"count", len(r.unknown))
	}
	c.watchTable(run, abort, claims.Ledger) // a queue worker's table deleted while it idles
	sum, runErr := eng.Run(run, kill)
	stopNotice() // a signal from now on finds nothing in flight
	progress.Finish()
	settle, cancelSettle := settleContext(stop)
	defer cancelSettle()
	if member != nil {
		_ = member.Leave(settle) // no call starts any more: the others take the share now (logged)
	}
	if err := s.close(settle); err != nil {
		log.Warn("source close", "error", err)
	}
	if err := claims.close(); err != nil && runErr == nil {
		runErr = err
	}
	if fileLedger != nil && sum != nil {
		logLedgerCost(log, fileLedger.Stats(), cfg.Workers, sum.Finished.Sub(sum.Started))
	}
	if err := report.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("report: %w", err)
	}
	pages, lookups := c.ListReads()
	return &Outcome{Summary: sum, Throttles: limiter.Throttles(), Rate: limiter.Rate(), ReportPath: c.reportPath,
		UsernameCase: c.rule.String(), VerifyCalls: c.verifier.Calls(),
		Attempts: attempts.Load(), Total: total, SendsLeft: c.sendsLeft(total, sum), Campaign: whole, Redelivers: s.Redelivers(),
		Stopped: mayHaveCalled(c.stopped(runErr, s.Redelivers()), len(sum.MayHaveCalled), c.sentWhat()), LimitDue: limitDue,
		VerifyRate: c.verifyRate(), ListPages: pages, ListLookups: lookups,
		Invitations: inv.calls(), InvitationRate: inv.rate(), Sent: sent,
		Budget:    BudgetState{Limit: bud.Limit, Spent: bud.Seen(), Next: bud.Next(), Reset: bud.Schedule.String()},
		Signalled: stop.Err() != nil}, nil
}

// verifyRate is the --verify-users limiter's rate now (0: no check per user).
func (c *Campaign) verifyRate() float64 {
	if !c.checksUsers() || c.verifyLimiter == nil {
		return 0
	}
	return c.verifyLimiter.Rate()
}

// countingAPI counts the Cognito sends in flight — ResendConfirmationCode and, with
// --invitations, AdminCreateUser — on one counter, for the stop notice: a call is in
// flight from its request to its answer (a token taken and then refused by the claim is
// not a call).
type countingAPI struct {
	*cip.Client
	n *atomic.Int64
}

func (a countingAPI) AdminCreateUser(ctx context.Context, in *cip.AdminCreateUserInput, optFns ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error) {
	a.n.Add(1)
	defer a.n.Add(-1)
	return a.Client.AdminCreateUser(ctx, in, optFns...)
}

func (a countingAPI) ResendConfirmationCode(ctx context.Context, in *cip.ResendConfirmationCodeInput, optFns ...func(*cip.Options)) (*cip.ResendConfirmationCodeOutput, error) {
	a.n.Add(1)
	defer a.n.Add(-1)
	return a.Client.ResendConfirmationCode(ctx, in, optFns...)
}

// cheaplyCountable: the source is a file, which a census reads in a fraction of a
// second — a CSV, or a pool's snapshot (the pool is listed once, and the run reads the
// same file); standard input can't be read twice.
func (c *Campaign) cheaplyCountable() bool {
	return (c.cfg.CSV != "" && c.cfg.CSV != "-") || c.cfg.PoolSource()
}

// total is the progress total: the rows counted by the census plus the unknown rows
// recorded first, or -1 when the campaign was not counted or its source has no end.
func (c *Campaign) total(s *source, r *resumed) int {
	if c.census == nil || s.Redelivers() {
		return -1
	}
	return c.census.Read + len(r.unknown)
}

// interrupted is the stop of a CSV or pool campaign by a signal.
const interrupted = "campaign interrupted; rows not in the report were not attempted"

// mayHaveCalled tells the truth in an interrupted stop where n users were left without a
// row although their call may have reached Cognito (aborted by the second signal).
// what is "a code", or with --invitations "a code or an invitation".
func mayHaveCalled(stopped error, n int, what string) error {
	var se *stopError
	if n == 0 || !errors.As(stopped, &se) || se.msg != interrupted {
		return stopped
	}
	return &stopError{msg: fmt.Sprintf("campaign interrupted; %d users without a row may have been sent %s (their "+
		"calls were aborted): --resume reports them unknown and does not call them again; the other users without a "+
		"row were not attempted", n, what), cause: se.cause}
}

// sentWhat is what a user whose call was cut short may have been sent.
func (c *Campaign) sentWhat() string {
	if c.cfg.Invitations {
		return "a code or an invitation"
	}
	return "a code"
}

// stopped is the Outcome.Stopped of the engine's error.
func (c *Campaign) stopped(runErr error, redelivers bool) error {
	var sys *engine.SystemicError
	var outage *pacing.OutageError
	var spent *budget.SpentError
	switch {
	case runErr == nil:
		return nil
	case errors.As(runErr, &spent):
		// Not a fault: more to do in the next window (exit 4).
		return &stopError{msg: spent.Error(), cause: runErr}
	case errors.As(runErr, &sys):
		return &stopError{msg: "campaign stopped: " + runErr.Error(), cause: runErr}
	case errors.As(runErr, &outage):
		return &stopError{msg: "campaign stopped: Cognito unreachable: " + outage.Error() + "; fix: " + c.outageFix(outage),
			cause: runErr}
	case errors.Is(runErr, engine.ErrInterrupted) && redelivers:
		// A queue worker told to stop has stopped cleanly: every message is deleted with
		// its row, or visible again.
		return nil
	case errors.Is(runErr, engine.ErrInterrupted):
		return &stopError{msg: interrupted, cause: runErr}
	case errors.Is(runErr, engine.ErrLedger):
		return &stopError{msg: "campaign stopped: " + runErr.Error() + "; nobody was called without a durable claim: " +
			"run it again (with --resume for a CSV or pool campaign) once the ledger can be written", cause: runErr}
	}
	return &stopError{msg: "campaign stopped: " + runErr.Error(), cause: runErr}
}
