package campaign

import (
	"errors"
	"fmt"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"github.com/cognito-resend/cognito-resend/worker/words"
)

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
	why := "their calls were aborted"
	if n == 1 {
		why = "its call was aborted"
	}
	return &stopError{msg: fmt.Sprintf("campaign interrupted; %s without a row may have been sent %s (%s): "+
		"--resume reports %s unknown and does not call %s again; the other users without a row were not attempted",
		words.Count(n, "user"), what, why, words.Them(n), words.Them(n)), cause: se.cause}
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
