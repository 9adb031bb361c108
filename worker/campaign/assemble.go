package campaign

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/fleet"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/metrics"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// assembly is a run's parts: built by assemble, driven by drive, closed by the cleanup
// stack.
type assembly struct {
	// run is stop, or the breaker giving up on Cognito (an outage), or the table gone:
	// either ends dispatch (abort).
	run   context.Context
	abort context.CancelCauseFunc

	m          *metrics.Metrics // nil records nothing: no --metrics-addr
	src        *source
	r          *resumed
	claims     *claimLedger
	fileLedger *records.IntentLog // nil with --ledger-table
	bud        *budget.Budget
	limiter    *pacing.Limiter
	inv        *invitations // nil without --invitations
	member     *fleet.Member
	eng        *engine.Engine
	total      int            // the progress total (-1: unknown)
	whole      *records.Tally // the campaign so far, when this run continues one

	// The engine's writer goroutine's, read once the engine is done.
	sent     map[job.Message]int
	limitDue time.Time // of the campaign's limit_exceeded rows

	// inFlight: every Cognito send in flight, a resend or an invitation.
	attempts, inFlight atomic.Int64
	// assembled: every part is open and the run may call; until then a fresh report's
	// files are removed by the unwind (no call was made: leave nothing behind).
	assembled bool
}

// assemble builds the run — the census when cheap, Prepare's checks, the source, the
// resume state, the ledger and records, the budget, the limiters and breakers, the
// resender (and inviter), the engine, the fleet membership and the metrics server —
// pushing the close of each part on closers as soon as it is open. On an error the
// caller unwinds what was opened; nothing was called.
func (c *Campaign) assemble(stop context.Context, progress Progress, closers *cleanup) (*assembly, error) {
	cfg, log := c.cfg, c.log
	a := &assembly{sent: map[job.Message]int{}}
	a.run, a.abort = context.WithCancelCause(stop)
	closers.push("run context", func(context.Context) error { a.abort(nil); return nil })
	if c.census == nil && c.cheaplyCountable() {
		// A file costs a fraction of a second to count (docs/options.md): the progress total and
		// ETA, and the rows left if the run stops.
		if _, err := c.Census(a.run); err != nil {
			return nil, err
		}
	}
	if cfg.MetricsAddr != "" {
		a.m = metrics.New()
	}
	if err := c.Prepare(a.run); err != nil {
		return nil, err
	}
	s, err := c.openSource(a.run, log, a.m)
	if err != nil {
		return nil, err
	}
	a.src = s
	// What the source still holds (queue mode: flush deletes, release unstarted messages).
	closers.push("source", func(ctx context.Context) error {
		if err := s.close(ctx); err != nil {
			log.Warn("source close", "error", err)
		}
		return nil
	})
	r, err := c.resume(s.Redelivers())
	if err != nil {
		return nil, err
	}
	a.r = r
	if r.state == nil && cfg.Resume {
		log.Info("no report yet: starting the campaign", "report", c.reportPath)
	}
	s.logHeader(log)
	if st := r.state; st != nil {
		r.skipRecorded(s, c.lineMismatch(r, true))
		log.Info("resuming campaign", "report", c.reportPath, "rows", st.Rows,
			"final_users", st.Final.Len(), "unknown", len(st.Unknown), "retry", st.Retry, "torn_lines", st.Skipped)
		a.whole = st.Tally
	}
	// A resumed CSV or pool campaign applies the supersede rule to the rows it adds (a
	// queue's worker runs for days: it only counts, below).
	tally := r.state
	if s.Redelivers() {
		tally = nil
	}
	if tally != nil {
		a.limitDue = tally.LimitDue
	}
	claims, err := c.openTable(log, a.m)
	if err != nil {
		return nil, err
	}
	if claims != nil {
		if err := c.bindTableReset(a.run, claims.table, log, false); err != nil {
			return nil, err
		}
	}
	report, fileLedger, err := c.openRecords(r, log, claims == nil)
	if err != nil {
		return nil, err
	}
	closers.push("fresh files", func(context.Context) error {
		if !a.assembled {
			c.discardFresh(r) // after the report and ledger are closed (unwound first)
		}
		return nil
	})
	closers.push("report", func(context.Context) error {
		if err := report.Close(); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return nil
	})
	if claims == nil {
		claims = &claimLedger{Ledger: fileLedger, file: fileLedger}
		closers.push("intent ledger", func(context.Context) error { return fileLedger.Close() })
	}
	a.claims, a.fileLedger = claims, fileLedger
	a.bud = c.newBudget(r, claims.table)

	// --fleet-rate replaces --rate: the limiter's ceiling is this replica's share of it,
	// set by the fleet (joinFleet, below) before the first call; the adaptive controller
	// steers below it (the rate is min(ceiling, the controller's)).
	a.limiter = pacing.NewLimiter(pacing.LimiterConfig{Rate: c.ceiling(), Burst: cfg.Burst, Adaptive: cfg.Adaptive,
		Reserve: cfg.Reserve, Clock: c.clock})
	breaker := &pacing.Breaker{Limiter: a.limiter, OnTrip: a.m.BreakerTripped, Clock: c.clock}
	c.watchOutage(breaker, a.abort)
	// --verify-users calls the same endpoint first
	c.watchOutage(c.verifyBreaker, a.abort)
	resender := c.newResender(countingAPI{CognitoAPI: c.clients.Cognito(), n: &a.inFlight}, a.limiter, breaker, log)
	resender.OnAttempt = func(o cognito.Outcome, latency time.Duration) {
		a.attempts.Add(1)
		a.m.ObserveAttempt(o, latency)
	}
	a.inv = c.openInvitations(a.m, a.abort, &a.inFlight) // --invitations: AdminCreateUser RESEND, its own limiter
	// A queue worker holds no message while Cognito does not answer (gate.go).
	processor, verifier := c.guardQueue(a.run, s, resender, a.inv.processor(resender), a.abort,
		append([]*pacing.Breaker{breaker, c.verifyBreaker}, a.inv.breakers()...)...)
	c.verifier.OnAttempt = func(o cognito.Outcome, latency time.Duration) { a.m.ObserveVerify(o, latency) }
	a.eng = &engine.Engine{
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
			a.m.ObserveResult(res)
			if res.Status == job.StatusSent {
				a.sent[res.Message.Or()]++
			}
			progress.Observe(res)
			switch {
			case tally != nil:
				tally.Record(res) // the supersede rule, its Tally included
			case a.whole != nil:
				r.state.Count(res) // a queue: counts only (its worker runs for days)
			}
			if due := res.LimitDue(); due.After(a.limitDue) {
				a.limitDue = due
			}
		},
		// Acks after the stop share the settle budget.
		SettleTimeout: engine.SettleBudget,
		Budget:        a.bud,
	}
	if q, ok := s.pauser.(idler); ok {
		// A queue worker waits out a spent budget (or the daily cap) without receiving.
		pause := &budgetPause{src: q, clock: c.clock, log: log}
		closers.push("budget pause", func(context.Context) error { pause.stop(); return nil })
		a.eng.OnSpent = func(_ job.Job, se *budget.SpentError) { pause.spent(se) }
		if cfg.DailyBudget > 0 {
			pause.atStart(a.run, a.bud)
		}
	}
	if h, ok := progress.(HeldObserver); ok {
		a.eng.OnHeld = h.Held
	}
	// The fleet: the others count this replica before its first call; it leaves once
	// its calls have stopped (the unwind), also when the assembly fails from here on.
	member, err := c.joinFleet(a.run, log, a.m, claims.owner, c.ceilings(a.limiter, a.inv))
	if member != nil {
		closers.push("fleet", func(ctx context.Context) error {
			_ = member.Leave(ctx) // logged: the others count it until its record expires
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	a.member = member
	if m := a.m; m != nil {
		m.WatchRate(a.limiter.Rate)
		m.WatchBreaker(breaker.Open)
		m.WatchOutage(c.outageSeconds(breaker))
		m.WatchBudget(a.bud.Limit, a.bud.Seen, a.bud.Next)
		if c.checksUsers() {
			m.WatchVerifyRate(c.verifyLimiter.Rate)
		}
		srv, err := c.serveMetrics(a.run, m, s)
		if err != nil {
			return nil, err
		}
		closers.push("metrics server", func(ctx context.Context) error {
			_ = srv.Close(ctx) // best effort at exit
			return nil
		})
	}
	a.total = c.total(s, r)
	a.assembled = true
	return a, nil
}
