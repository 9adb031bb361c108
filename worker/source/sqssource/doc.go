// Package sqssource is the queue source: one SQS message per user, consumed through the
// same pipeline as a CSV, and settled at the queue only once its row is durable.
//
//	ReceiveMessage ──► [receive] ──► held (inflight) ──► Next ──► Job ──► admit … report
//	                       ▲              │  ▲                                   │
//	                  free slots   [heartbeat: extend]                     Ack / Release
//	                                                                            │
//	                   DeleteMessageBatch / ChangeMessageVisibilityBatch ◄── [settler]
//
// One idea per file: config.go (Config, SQSAPI, defaults), source.go (the Source, Next),
// receive.go (the receive loop), inflight.go (the tracker of held messages), heartbeat.go
// (visibility extension), action.go (result → queue action and visibility backoff),
// settle.go (the settler: batching on size or time), batch.go (the batch calls and their
// per-entry results), dlq.go (RedrivePolicy, poison moves), message.go (the body format,
// read and written), close.go (the shutdown order). Every wait is on the clock package's
// clock, every backoff a pacing.Policy, and the SQS client has aws.NopRetryer: failed
// calls and entries are retried here.
package sqssource
