package sqssource

import (
	"context"
	"fmt"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// ack settles a message after its report row is durable: the result decides the queue
// action, whatever the body looked like. A job the source redelivers
// (job.Result.Redeliver) is made visible again after a backoff; every other message is
// deleted, a poison one after its copy to the DLQ.
func (s *Source) ack(ctx context.Context, m *message, r job.Result) error {
	switch {
	case IsPoison(r):
		if s.dlqURL != "" {
			if err := s.toDLQ(ctx, m, r.ErrorMessage); err != nil {
				// Not deleted: it comes back later and SQS's own redrive moves it.
				_ = s.settle(ctx, m, opVisibility, s.retryLater(m), "retry_later")
				return fmt.Errorf("move to DLQ: %w", err)
			}
		}
		return s.settle(ctx, m, opDelete, 0, "delete")
	case !r.Redeliver():
		return s.settle(ctx, m, opDelete, 0, "delete")
	case r.Status == job.StatusLimitExceeded:
		// Cognito's per-user limit is hourly: LimitExceededDelay, however often received.
		return s.settle(ctx, m, opVisibility, s.visibility(m, s.cfg.LimitExceededDelay), "limit_later")
	}
	return s.settle(ctx, m, opVisibility, s.retryLater(m), "retry_later")
}

// IsPoison is queue mode's one poison rule (Lambda mode's too: lambdasource): a message whose row is invalid_input can't
// yield a Cognito call — a plain body or a JSON username Cognito would reject, an empty
// one, malformed JSON, a bad SNS envelope, or a username Cognito itself called invalid.
// The producer has a bug: the operator finds the message in the DLQ, unchanged, with its
// report row.
func IsPoison(r job.Result) bool { return r.Status == job.StatusInvalidInput }

// retryLater is m's visibility after exhausted retries: RetryDelay, doubled per earlier
// receive (exact: the operator reads it back in the queue).
func (s *Source) retryLater(m *message) int32 {
	p := pacing.Policy{Base: s.cfg.RetryDelay, Max: MaxVisibility, Exact: true}
	return s.visibility(m, p.Delay(m.receiveCount))
}

// visibility is d in whole seconds, within SQS's 12 h since m's receipt.
func (s *Source) visibility(m *message, d time.Duration) int32 {
	return VisibilitySeconds(d, s.clock.Now().Sub(m.receivedAt))
}

// VisibilitySeconds is a message's visibility timeout to come back after d, in whole
// seconds, bounded by SQS's 12 h since its receipt (sinceReceipt ago; a minute to spare).
// Queue mode's and Lambda mode's (lambdasource) one rule for it.
func VisibilitySeconds(d, sinceReceipt time.Duration) int32 {
	left := MaxVisibility - sinceReceipt - time.Minute
	d = max(min(d, left, MaxVisibility), 0)
	return int32((d + time.Second - 1) / time.Second)
}

// BackoffSeconds is the visibility, in seconds, an exhausted-retries job with this
// ApproximateReceiveCount gets (exported for documentation and tests).
func (s *Source) BackoffSeconds(receiveCount int) int32 {
	return s.retryLater(&message{receiveCount: receiveCount, receivedAt: s.clock.Now()})
}
