package campaign

import (
	"cmp"
	"context"
	"errors"
	"sync/atomic"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
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

// Run runs the campaign: source → admit → verify → claim → limiter → resender → report → finish → ack.
// progress (nil: none) watches it. stop is the soft stop (no new calls; calls in flight finish, for up to
// --shutdown-timeout), kill the hard stop (abort them). An error means the campaign
// could not start (a usage error: nothing was called); otherwise the Outcome says how
// it ended.
//
// It assembles the run (assemble: every part it opens on one cleanup stack), drives it
// (drive), and unwinds the stack once, in reverse order, whichever way it returns.
func (c *Campaign) Run(stop, kill context.Context, progress Progress) (out *Outcome, err error) {
	if progress == nil {
		progress = noProgress{}
	}
	closers := &cleanup{trace: c.traceCleanup}
	var runErr error // the engine's
	defer func() {
		// The settle budget bounds the closes' network calls (a queue's deletes and
		// releases, leaving the fleet): they outlive stop.
		settle, cancel := settleContext(stop)
		defer cancel()
		closed := closers.unwind(settle)
		switch {
		case err != nil:
			err = errors.Join(err, closed)
			c.discardSnapshot() // could not start: no orphan <report>.pool
		case closed != nil && runErr == nil:
			// The report or the file ledger failed as it closed: a stop, not a clean end.
			out.Stopped = c.stopped(closed, out.Redelivers)
		}
	}()
	a, err := c.assemble(stop, progress, closers)
	if err != nil {
		return nil, err
	}
	out, runErr = c.drive(stop, kill, progress, a)
	return out, nil
}

// drive runs the assembled campaign until its source ends or it is stopped, and says how
// it ended; runErr is the engine's error.
func (c *Campaign) drive(stop, kill context.Context, progress Progress, a *assembly) (out *Outcome, runErr error) {
	cfg := c.cfg
	kill, cancelKill := hardStop(a.run, kill, cfg.ShutdownTimeout, c.clock)
	defer cancelKill()

	progress.Start(a.total, a.limiter.Rate)
	// The first signal says at once what happens next: the calls in flight finish (up to
	// --shutdown-timeout) unless a second signal aborts them.
	stopNotice := context.AfterFunc(stop, func() {
		progress.Stopping(int(a.inFlight.Load()), cfg.ShutdownTimeout)
	})
	defer stopNotice()
	c.logStarting(a)
	c.watchTable(a.run, a.abort, a.claims.Ledger) // a queue worker's table deleted while it idles
	sum, runErr := a.eng.Run(a.run, kill)
	stopNotice() // a signal from now on finds nothing in flight
	progress.Finish()
	if a.fileLedger != nil && sum != nil {
		logLedgerCost(c.log, a.fileLedger.Stats(), a.eng.Claimers(), sum.Finished.Sub(sum.Started))
	}
	pages, lookups := c.ListReads()
	bud, s := a.bud, a.src
	return &Outcome{Summary: sum, Throttles: a.limiter.Throttles(), Rate: a.limiter.Rate(), ReportPath: c.reportPath,
		UsernameCase: c.rule.String(), VerifyCalls: c.verifier.Calls(),
		Attempts: a.attempts.Load(), Total: a.total, SendsLeft: c.sendsLeft(a.total, sum), Campaign: a.whole, Redelivers: s.Redelivers(),
		Stopped: mayHaveCalled(c.stopped(runErr, s.Redelivers()), len(sum.MayHaveCalled), c.sentWhat()), LimitDue: a.limitDue,
		VerifyRate: c.verifyRate(), ListPages: pages, ListLookups: lookups,
		Invitations: a.inv.calls(), InvitationRate: a.inv.rate(), Sent: a.sent,
		Budget:    BudgetState{Limit: bud.Limit, Spent: bud.Seen(), Next: bud.Next(), Reset: bud.Schedule.String()},
		Signalled: stop.Err() != nil}, runErr
}

// logStarting says what the run is about to do, once: its source, pace, checks, ledger
// and budget.
func (c *Campaign) logStarting(a *assembly) {
	cfg, log, s := c.cfg, c.log, a.src
	desc := append(s.desc, "report", c.reportPath, "region", c.target.Region, "endpoint", c.target.Endpoint,
		"rate", a.limiter.Rate(), "reserve", cfg.Reserve, "workers", cfg.Workers, "username_case", c.rule.String())
	if m := a.member; m != nil {
		desc = append(desc, "fleet", m.Name(), "fleet_rate", m.Budget(), "fleet_replicas", m.Alive())
	}
	if a.total >= 0 {
		desc = append(desc, "total", a.total)
	}
	if c.checksUsers() {
		desc = append(desc, "verify_users", true, "verify_with", cfg.VerifyWith, "verify_rate", c.checkRate(), "verify_user_pool_id", cfg.UserPoolID)
	} else if cfg.VerifyUsers && !cfg.PoolSource() {
		desc = append(desc, "verify_users", true, "verify_with", cfg.VerifyWith, "verify_user_pool_id", cfg.UserPoolID)
	}
	if inv := a.inv; inv != nil {
		desc = append(desc, "invitations", true, "invitation_rate", inv.rate(),
			"invitation_delivery", cmp.Or(cfg.InvitationMedium(), "unset (Cognito's default: SMS)"))
	}
	desc = append(desc, a.claims.desc...)
	if bud := a.bud; bud.Limit > 0 {
		_, _, spent, err := bud.Status(a.run)
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
	if n := len(a.r.unknown); n > 0 {
		log.Warn("users reported unknown: their call may have reached Cognito; not calling them again", "count", n)
	}
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
	CognitoAPI
	n *atomic.Int64
}

func (a countingAPI) AdminCreateUser(ctx context.Context, in *cip.AdminCreateUserInput, optFns ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error) {
	a.n.Add(1)
	defer a.n.Add(-1)
	return a.CognitoAPI.AdminCreateUser(ctx, in, optFns...)
}

func (a countingAPI) ResendConfirmationCode(ctx context.Context, in *cip.ResendConfirmationCodeInput, optFns ...func(*cip.Options)) (*cip.ResendConfirmationCodeOutput, error) {
	a.n.Add(1)
	defer a.n.Add(-1)
	return a.CognitoAPI.ResendConfirmationCode(ctx, in, optFns...)
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
