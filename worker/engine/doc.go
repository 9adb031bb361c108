// Package engine is the pipeline's pump: a bounded pool of workers between a source and
// the report.
//
//	Source.Next ─► reader ─► admit ─(unbuffered)─► workers ×N ─► results ─► writer ─► Finish ─► Ack
//	                 │   ▲        Verifier.Verify, Ledger.Claim, Processor.Resend │ group commit:
//	                 │   └── deferred (Busy, no Job.Defer) ◄─┘                      │ Write…, Sync
//	                 └─ invalid/duplicate rows, Initial rows, verdict rows ─────────┘
//	                         renew loop: Ledger.Renew of the claims held (claims.go)
//
// The reader takes from the source only what a worker starts, so memory stays flat. A
// worker first lets the Verifier judge the user (a user who can't receive a code gets
// its row here, with nothing claimed or sent), then claims the user (Ledger: durable
// before the call, or a verdict that settles the job without one: recently_sent,
// unknown, or busy — another owner holds the user, and the job comes again after that
// owner's lease, through its source's Defer or kept here by deferral.go), then runs the
// Processor (the resender). The writer, the one goroutine touching the report, writes
// each group of rows, makes them durable (records.GroupCommit), records their outcomes
// in the ledger (Finish), and only then acks their jobs at the source. While a job waits
// or retries its claim's lease is renewed; a claim found lost ends the job's attempts. A
// job taken but not finished (stop, systemic error) is given back through its Release
// (and its claim through Ledger.Release) and gets no row; a panic becomes that user's
// failed row.
//
// Stopping has two levels: cancelling the stop context ends dispatch, limiter waits and
// backoff sleeps but lets calls in flight finish; cancelling the kill context aborts
// them. A SystemicError (an answer that would fail every user alike) stops the run; so
// does a ledger that can't be written (ErrLedger): no call without a durable claim.
package engine
