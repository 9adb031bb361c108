// Package engine is the pipeline's pump: a bounded pool of workers between a source and
// the report.
//
//	Source.Next ─► reader ─► admit ─(unbuffered)─► workers ×N ─► results ─► writer ─► Ack
//	                 │       Verifier.Verify, Journal.Intend, Processor.Resend │ group commit:
//	                 └─ invalid/duplicate rows, Initial rows ─────────────────┘ Write…, Sync
//
// The reader takes from the source only what a worker starts, so memory stays flat. A
// worker first lets the Verifier judge the user (a user who can't receive a code gets
// its row here, with nothing claimed or sent), then makes the job's intent durable
// (Journal) and runs the Processor (the resender). The writer, the one goroutine
// touching the report, writes each group of rows, makes them durable
// (records.GroupCommit), and only then acks their jobs at the source. A job taken but
// not finished (stop, systemic error) is given back through its Release and gets no row;
// a panic becomes that user's failed row.
//
// Stopping has two levels: cancelling the stop context ends dispatch, limiter waits and
// backoff sleeps but lets calls in flight finish; cancelling the kill context aborts
// them. A SystemicError (an answer that would fail every user alike) stops the run.
package engine
