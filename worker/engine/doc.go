// Package engine is the pipeline's pump: a bounded pool of workers between a source and
// the report.
//
//	Source.Next ─► reader ─► admit ─(unbuffered)─► claimers ×(N+A) ─► results ─► writer ─► Finish ─► Ack
//	                 │   ▲   Verify*, Ledger.Peek, Resend (token → gate: Claim → *)   │ group commit:
//	                 │   └── deferred (Busy, no Job.Defer) ◄─┘                        │ Write…, Sync
//	                 └─ invalid/duplicate rows, Initial rows, verdict rows ───────────┘
//	                         renew loop: Ledger.Renew of the claims held (claims.go)
//	   * one of N call slots (Workers), held for the verify or from the claim to the result
//
//	   job a  [claim ─ fsync 1][call]
//	   job b        [claim ──── fsync 2 ────][call]       fsync 2 covers b's and c's intents
//	   job c             [claim ─ fsync 2 ───][wait slot][call]   while a's call runs
//
// The reader takes from the source only what a worker starts, so memory stays flat. A
// worker first lets the Verifier judge the user (a user who can't receive a code gets
// its row here, with nothing claimed or sent), then looks at the ledger (Ledger.Peek: a
// read) for a verdict that settles the job without a token or a call: recently_sent,
// unknown, or busy — another owner holds the user, and the job is looked at again soon
// (HeldRecheck), through its source's Defer or kept here by deferral.go. Then it runs
// the Processor (the resender) with a gate: once the first rate token is in hand the
// user is claimed (Ledger.Claim, durable before the call, or a verdict: no call), so a
// claim or intent always means a call may have reached Cognito — a job that only waited
// for a token leaves nothing behind. Then it waits for a call slot: N (Workers) calls
// are in flight at most, while up to A (ClaimAhead, default N) more jobs are claimed —
// the ledger's write runs beside other jobs' calls instead of holding a slot, and one
// group commit covers the intents of every claimer. Only while it pays: once a call
// has held its slot no longer than 4 claims took (claimAheadPays); until then, and
// whenever a call or a wait for a slot is slower, a job takes its slot before it claims
// and the A extra claimers take no new job (jobs start in the source's order). A kill -9
// leaves at most N + A claims without a row (`unknown`), at most A of them never called;
// a stop releases the claims made ahead (no call after a stop). The writer, the one
// goroutine touching the report, writes each group of rows, makes them durable (records.GroupCommit), records their
// outcomes in the ledger (Finish), logs every unknown row with its reason (unknown.go),
// and only then acks their jobs at the source. While a job retries its claim's lease is
// renewed; a claim found lost ends the job's attempts, and so does a lease that lapsed
// unrenewed (the process was paused): the gate refuses the next attempt and the user is
// unknown if an earlier one may have landed — the lease is the fence. A job taken but
// not finished (stop, systemic error) is given back through its Release (and its claim
// through Ledger.Release) and gets no row; a panic becomes that user's failed row.
//
// Stopping has two levels: cancelling the stop context ends dispatch, limiter waits and
// backoff sleeps but lets calls in flight finish; cancelling the kill context aborts
// them. A SystemicError (an answer that would fail every user alike) stops the run; so
// does a ledger that can't be written (ErrLedger): no call without a durable claim.
package engine
