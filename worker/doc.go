// Package worker is cognito-resend's engine room. It holds no code: each mechanism has a
// package of its own below it, and this is their map.
//
//	          ┌──────────────────── campaign: Open → Census → Run (assembly, resume, shutdown) ─────────────────────┐
//	          │                                                                                                     │
//	source/csvsource ─┐                                claim: records.IntentLog (file: intent, fsync)              │
//	source/poolsource ├─► Job ─► admit ─► engine ─► userpool ─► or dynamoledger (table) ─► pacing.Limiter ─► cognito ─┤
//	source/sqssource ─┤  (job)   valid?    │        Verifier    won? recently_sent /       (every attempt)   Resender, │
//	source/lambdasource┘         new user? │        can it get  busy / unknown             pacing.Breaker    Classify  │
//	      ▲                                ▼        a code?                                                         │
//	      └── Job.Ack (delete, backoff) ◄── Ledger.Finish ◄── records report writer (group commit, fsync) ◄── Result ┘
//	                                                     │
//	                                                  metrics (/metrics, /healthz, /readyz)
//
// Lambda mode (cognito-resend lambda) is the same pipeline: each invocation's batch is a
// source/lambdasource Batch run through the engine, and Ack/Release/Defer become the
// batch item failures instead of SQS calls.
//
// One pipeline for every source: Source → admit (validate, dedupe) → verify (can the
// user get a code?) → a look at the ledger (sent? held?) → limiter → claim (ledger, once
// the token is in hand) → resender (retry) → report → finish (ledger) → ack at the
// source. A job is done only when its row is durable and its
// outcome is in the ledger; only then is it acked.
//
//	job               Job, Result, Status (Known, Conclusive), ErrorClass, Result.Redeliver, Source
//	words             Count ("1 user", "2 users") and Them: the one rule for counts in messages
//	clock             the one clock (github.com/jonboulle/clockwork): timestamps, timers, tickers
//	admit             the admit rule: username validation, the dedupe key set, Admitter
//	awserr            the one AWS error rule: Code, Label (metrics), Transient (the SDK's
//	                  transient errors, AWS's faults, the call's own deadline)
//	pacing            the shared Limiter (adaptive), the fault Breaker, Policy: the one backoff
//	budget            the daily send budget (--daily-budget): its windows (Schedule.Window, the
//	                  one rule), Budget (a send taken before the call, given back if none
//	                  went out), SpentError (exit 4, a queue's pause); counted by Local
//	                  (the report's) or dynamoledger.Budget (the table's)
//	cognito           Resender (ResendConfirmationCode), Call (the attempt loop under a limiter,
//	                  go-retry), Classify, SecretHash
//	userpool          Verifier (--verify-users: a census of the pool and ListUsers lookups,
//	                  or AdminGetUser with its own limiter), Judge, Lister (every ListUsers
//	                  call, one --list-rate limiter), the username case rule (DescribeUserPool)
//	engine            the bounded pool: reader → workers → writer → ack; Summary; soft and hard stop
//	records           report (CSV/JSONL) writer and line parser, rotation, file ledger, resume loader
//	dynamoledger      the shared ledger table: conditional claims, leases, outcomes; ledger init/show/list
//	fleet             --fleet-rate: replica heartbeats on the ledger table, the fleet rate split
//	                  among the replicas alive, each share set as the limiter's ceiling
//	metrics           Prometheus metrics (the breaker's state included) and the /metrics, /healthz, /readyz server
//	source/csvsource  a CSV file or stdin
//	source/poolsource a user pool's UNCONFIRMED users, listed once into <report>.pool
//	source/sqssource  an SQS queue: receive, heartbeat, settle, batch, DLQ, in-flight tracker
//	source/lambdasource Lambda mode: one SQS event source batch as jobs, the batch item
//	                  failures (poison rule vs the DLQ, FIFO), the deadline guard, EMF metrics
//	source/enqueue    the producer: a CSV into the queue (cognito-resend enqueue)
//	campaign          the campaign core: builds the AWS clients, sources, limiter, breaker,
//	                  resender and records from a config.Config; census; run; outcome;
//	                  Lambda mode's Function (those parts once per execution environment,
//	                  one engine run per invocation)
//	reportset         cognito-resend report: many reports read back (records.ScanReport) as one
//	                  campaign, one row per user; summary, retry CSV, HTML page
//
// Layers: job, clock and words import nothing of the project; admit, awserr, pacing, budget, cognito, userpool
// and metrics build on them; records, dynamoledger, the sources and the engine on those;
// fleet on dynamoledger; campaign on everything; reportset on records; cmd/cognito-resend
// on campaign, reportset, config and the shared types (job, clock) it renders. Interfaces are declared
// by their users (engine.Processor, engine.Verifier, engine.Ledger, engine.Report,
// cognito.Limiter, …).
//
// Words that mean one thing throughout:
//
//	settle   bring a job to its end at the source: its row durable, its outcome in the
//	         ledger, then ack, release or defer its message (engine settleJob, sqssource
//	         settle, lambdasource Batch.settle, IntentLog.Settle, dynamoledger settle).
//	         SettleBudget and LambdaSettleTimeout bound that step after a stop;
//	         SettleMarginDefault leaves room for it before a Lambda deadline. (The adaptive
//	         limiter's wait for a throttle's answer is answerWait, not settle.)
//	claim    a durable mark, made before the call, that a user may be called (the intent
//	         of the file ledger, the conditional write of the table): ClaimVerdict is the
//	         ledger's answer to a claim.
//	ledger   engine.Ledger, the claim store behind one interface: records.IntentLog (the
//	         file's intent journal) or dynamoledger.Ledger (the table).
//	unknown  a user whose call may have reached Cognito and who has no outcome: never
//	         called again unless --retry-unknown.
package worker
