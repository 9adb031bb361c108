package engine

import (
	"context"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Processor turns a job into a result; *cognito.Resender is the real one.
type Processor interface {
	Resend(stop, kill context.Context, j job.Job) job.Result
}

// Verifier is the verify stage, between admit and the claim: it decides whether a job's
// user can receive a sign-up code before anything is claimed or sent.
// *userpool.Verifier is the real one (--verify-users, and the pool source's listing).
type Verifier interface {
	// Verify reports whether the job goes on to the resend; when not, res is its row, or
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

// Journal records intent before a call so a crash can't lead to a second send.
// *records.Ledger is the real one.
type Journal interface {
	// Intend blocks until the intent to call Cognito for the job is durable.
	Intend(ctx context.Context, j job.Job) error
	// Abandon records that the job was not finished and no call may have reached
	// Cognito (it was released before or between throttled attempts).
	Abandon(j job.Job)
}
