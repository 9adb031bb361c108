// Package worker is cognito-resend's engine: one pipeline for every source.
//
//	Source ──► dedupe/validate ──► workers ×N ──► report writer ──► ack at the source
//	                                 │
//	                      Limiter.Wait (every attempt, retries included)
//	                      Resender: ResendConfirmationCode, go-retry backoff
//	                      Classify: errors.As on Cognito's typed exceptions
//
// A Source yields Jobs. The Engine dedupes usernames (case-insensitively), reports
// invalid input without calling Cognito, and hands the rest to a bounded pool of
// workers through an unbuffered channel, so a source is read only as fast as workers
// start jobs. Each worker runs a Resender, the only retry layer (the AWS client has
// aws.NopRetryer): every attempt first waits on the one shared Limiter, whose rate an
// adaptive controller cuts on TooManyRequestsException. Classify turns each answer into
// an Outcome: success, retryable (throttle, 5xx, timeout, connection), per-user final
// (already confirmed, not found, per-user limit, delivery or Lambda failure) or
// systemic (bad client, missing secret, daily email cap, misconfigured pool), which
// stops the campaign.
//
// A single writer goroutine writes each result to the report and makes rows durable in
// groups (flush + fsync); only then does it call the job's Ack, which settles it at the
// source. A job taken but not finished (stop, systemic error) is given back through its
// Release and gets no row, so a resumed or redelivered run picks it up.
//
// Stopping has two levels: cancelling the stop context ends dispatch, limiter waits and
// backoff sleeps but lets calls in flight finish; cancelling the kill context aborts them.
package worker
