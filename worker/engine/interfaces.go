package engine

import (
	"context"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Budget is the daily send budget (*budget.Budget): one send is taken from the current
// window before a user's first call (after the claim), and given back when no message
// went out (a release before the call, a definite non-send).
type Budget interface {
	// Take returns the window the send was taken from, a *budget.SpentError when the
	// window's budget is spent, or another error when the counter can't be written.
	Take(ctx context.Context) (time.Time, error)
	// Give gives back a send taken from window.
	Give(ctx context.Context, window time.Time) error
	// Next is when the next window opens (the daily cap's wait).
	Next() time.Time
}

// Processor turns a job into a result; *cognito.Resender is the real one.
type Processor interface {
	// Send runs j's calls. gate, when not nil, must be called once each attempt's rate
	// token is in hand and before the attempt is made (n counts attempts from 1); an
	// error from it means: make no attempt, return (a ClassCanceled result, Ambiguous if
	// an earlier attempt may have reached Cognito). The engine claims the user in it.
	Send(stop, kill context.Context, j job.Job, gate func(n int) error) job.Result
}

// Verifier is the verify stage, between admit and the claim: it decides whether a job's
// user can receive a sign-up code before anything is claimed or sent.
// *userpool.Verifier is the real one (--verify-users, and the pool source's listing).
type Verifier interface {
	// Verify reports whether the job goes on to the resend (then res.Message, when set,
	// is the message the user's state calls for: job.Job.Message); when not, res is its row, or
	// a ClassCanceled / ClassSystemic result handled like the processor's.
	Verify(stop, kill context.Context, j job.Job) (res job.Result, send bool)
}

// Report records results: Write buffers a row, Sync makes every row written so far
// durable (flush + fsync). The engine's writer goroutine is its only user.
// records.Writer is the real one.
type Report interface {
	Write(r job.Result) error
	Sync() error
}

// Ledger is the claim step: a user is claimed before the first call — once its rate
// token is in hand, so that a claim (or intent) always means "a call may follow at once"
// — and no restart, no other replica and no later campaign sharing the ledger sends them
// a second code.
// *records.IntentLog (the file beside the report: every claim wins, intents without a row
// are `unknown` on resume) and *dynamoledger.Ledger (the shared DynamoDB table) are the
// real ones.
type Ledger interface {
	// Peek says, writing nothing that means "a call may have been made", what a claim
	// would find now: a verdict that settles or defers the job (RecentlySent, Expired,
	// Busy) before it takes a rate token, or Won when the claim should be tried (the
	// claim still decides). An error means the ledger can't be read: the campaign stops.
	Peek(ctx context.Context, j job.Job) (job.ClaimVerdict, error)
	// Claim returns once the claim is durable (Won) or refused (why: job.ClaimVerdict). An
	// error means the ledger can't be written: the campaign stops, nothing is called.
	Claim(ctx context.Context, j job.Job) (job.ClaimVerdict, error)
	// Renew extends the lease of a claim held while the job retries;
	// job.ErrClaimLost when it is no longer ours, another error when the ledger can't be
	// written.
	Renew(ctx context.Context, j job.Job) error
	// Finish records the outcome of a claimed job once its row is durable, before the
	// ack. An error means the ledger can't be written.
	Finish(ctx context.Context, j job.Job, r job.Result) error
	// Release gives a claim back without an outcome: released if no call of the job can
	// have reached Cognito, else kept, so that whoever meets the user next reports them
	// `unknown`. Best effort: a release that fails leaves the claim to expire.
	Release(ctx context.Context, j job.Job, mayHaveCalled bool)
}

// rowIsOutcome is implemented by a Ledger whose Finish records nothing because the
// durable report row is the outcome (the file ledger): the writer then skips the finish
// step instead of running a no-op per row.
type rowIsOutcome interface {
	RowIsOutcome() bool
}
