// Package lambdasource is Lambda mode's source: the batch of one invocation of the SQS
// event source mapping (ESM), as jobs of the one pipeline, and the batch item failures
// the function answers with.
//
//	Runtime API ─► events.SQSEvent ─► Batch (batch.go) ─► Next ─► Job ─► admit … report
//	                                     ▲                                  │
//	                  outcome per message ◄── Ack (row durable, outcome in the ledger)
//	                                     ◄── Release (not finished) / Defer (held)
//	Handler (handler.go): deadline guard → one engine run over the Batch → limit_exceeded
//	put off (visibility.go) → one log line per message → SQSEventResponse{BatchItemFailures},
//	or an error when every failure is systemic
//
// The rules (docs/lambda.md):
//   - success: a row that settles the message (sent, final Cognito answers,
//     recently_sent, duplicate, invalid_input without a DLQ to reach).
//   - batch item failure: the user is held by another owner's claim (Defer), the row asks
//     for redelivery (job.Result.Redeliver: retries spent, limit_exceeded), the job was
//     taken and given back (Release: the deadline, a systemic stop), or never started.
//   - limit_exceeded: before it is reported, its message's visibility is set to
//     Config.LimitExceededDelay (queue mode's rule, sqssource.VisibilitySeconds) with
//     ChangeMessageVisibilityBatch, so that it comes back after Cognito's hour, not every
//     visibility timeout (each receive counts toward maxReceiveCount).
//   - poison (sqssource.IsPoison, parsed by sqssource.ParseMessageBody): a failure while
//     the queue's redrive policy will still move it to the DLQ (ApproximateReceiveCount ≤
//     MaxReceiveCount), so it lands there unchanged; without a DLQ it is logged and
//     succeeds (a failure would come back for ever).
//   - FIFO (an event source ARN ending in .fifo): a message is started only once the one
//     before it succeeded; the first failure and every later message are failures.
//   - every message a failure for a systemic reason (given back, never started, retries
//     spent): the handler returns an error, so the ESM backs off.
//
// Nothing here waits on the machine's clock: the deadline guard's timers are on the
// clock package's clock.
package lambdasource
