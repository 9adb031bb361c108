package engine

import (
	"fmt"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Why a user is reported unknown ("a call may have reached Cognito"), the `reason` of
// its log line. Each names a call that may have been made: a claim or intent is only
// recorded once a rate token is in hand, just before the call.
const (
	// ReasonIntentWithoutOutcome: a resumed campaign's intent (file ledger) has no row:
	// the process stopped between the call and its row.
	ReasonIntentWithoutOutcome = "intent_without_outcome"
	// ReasonLeaseExpired: the table holds a claim whose lease ran out before an outcome
	// was recorded (its owner died or was cut off during the call).
	ReasonLeaseExpired = "lease_expired"
	// ReasonLeaseLapsed: this process made an attempt that may have landed, then its own
	// claim's lease ran out (it was paused longer than the lease): not retried.
	ReasonLeaseLapsed = "lease_lapsed"
)

// logUnknown writes the one line of an unknown row once it is durable.
func (r *run) logUnknown(s settled) {
	reason := s.reason
	if reason == "" {
		reason = s.res.ErrorCode
	}
	r.log.Warn("unknown: a call may have reached Cognito; not called again (--retry-unknown calls it)",
		"username", s.res.Username, "source_ref", s.res.SourceRef, "reason", reason, "detail", s.res.ErrorMessage)
}

// lapsedRow is the unknown row of a job whose attempt may have landed and whose claim's
// lease then ran out (res: the call as it ended, refused its next attempt).
func lapsedRow(j job.Job, res job.Result, lease time.Duration, now time.Time) job.Result {
	last := res.ErrorCode
	if last == "" {
		last = "no answer"
	}
	return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusUnknown, ErrorCode: "Unknown",
		ErrorMessage: fmt.Sprintf("attempt %d may have reached Cognito (%s), then this process held the claim "+
			"unrenewed for longer than its %s lease (paused?); not retried, since others may have judged "+
			"the claim expired. Use --retry-unknown to call", res.Attempts, last, lease),
		Attempts: res.Attempts, StartedAt: res.StartedAt, FinishedAt: now, Class: job.ClassPerUser, Ambiguous: true}
}
