package cognito

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// Call runs one Cognito operation for one user to its last attempt. Every attempt waits
// on Limiter, is bounded by CallTimeout and classified; every answer about the quota
// steers the limiter (Observe), a fault feeds the breaker, and pacing.Retry (the one
// retry layer) retries what the classifier calls retryable. The resender and the --verify-users check
// (userpool.Verifier) each run their call through it, each with its own limiter.
type Call struct {
	Op          string // the operation, for the log
	Limiter     Limiter
	Breaker     Breaker // optional
	Policy      pacing.Policy
	CallTimeout time.Duration // zero: CallTimeoutDefault
	// Classify sorts an answer; nil means Classify (ResendConfirmationCode's classifier).
	Classify  func(error) Outcome
	OnAttempt func(o Outcome, latency time.Duration) // optional (metrics)
	// RetryUnsent: an Unsent attempt (no connection made) is retried without spending
	// one of Policy.Attempts. Only where Breaker gives up on an outage (MaxOutage) and so
	// bounds the wait: the per-user calls of a run. A one-off call at the start spends
	// attempts and fails as a usage error.
	RetryUnsent bool
	// Gate, when set, runs once each attempt's rate token is in hand, just before the
	// attempt (n counts from 1): an error ends the Call without that attempt (Ran.Gated).
	// The engine claims the user at n == 1, so that nothing says "a call may have been
	// made" while a job only waits for a token, and checks the claim's lease before each
	// retry.
	Gate   func(n int) error
	Logger *slog.Logger // optional
	Clock  clock.Clock
}

// Ran is how a Call ended.
type Ran struct {
	// Err is the last attempt's error: nil after a success, and when stop came before
	// the first attempt.
	Err error
	// Outcome classifies Err (ClassCanceled "Canceled" when no attempt started).
	Outcome  Outcome
	Attempts int
	// Ambiguous: some attempt ended in a fault that may have reached Cognito (not
	// Unsent), or was aborted by kill, so Cognito may have acted on it without an answer
	// seen.
	Ambiguous bool
	// Stopped: stop ended the call before its first attempt, or between retries of a
	// retryable answer: the user was not reached.
	Stopped bool
	// Gated is Gate's error when it refused an attempt: no further attempt was made
	// (Ambiguous still tells whether an earlier one may have reached Cognito).
	Gated error
}

// OK reports whether the last attempt succeeded.
func (r Ran) OK() bool { return r.Err == nil && !r.Stopped && r.Gated == nil }

// Run calls attempt until it succeeds, its error is not retryable, the policy's attempts
// are spent (with RetryUnsent, an Unsent attempt spends none) or stop ends (soft stop: waits and backoff sleeps end, a call in flight
// finishes). kill aborts a call in flight (hard stop). attempt keeps its own output.
func (c *Call) Run(stop, kill context.Context, username string, attempt func(ctx context.Context) error) Ran {
	clk := clock.Must(c.Clock, "cognito.Call")
	classify := c.Classify
	if classify == nil {
		classify = Classify
	}
	callTimeout := c.CallTimeout
	if callTimeout <= 0 {
		callTimeout = CallTimeoutDefault
	}
	r := Ran{Outcome: Outcome{Class: job.ClassCanceled, Status: job.StatusFailed, Code: "Canceled"}}
	err := pacing.Retry(stop, clk, c.Policy, func(context.Context) error {
		if err := c.Limiter.Wait(stop); err != nil {
			return err // stopping: not retryable, no attempt made
		}
		if c.Gate != nil {
			if err := c.Gate(r.Attempts + 1); err != nil {
				r.Gated = err
				return err // not retryable: no attempt made
			}
		}
		r.Attempts++
		callCtx, cancel := context.WithTimeout(kill, callTimeout)
		t0 := clk.Now()
		err := attempt(callCtx)
		latency := clk.Since(t0)
		cancel()
		oc := classify(err)
		if oc.Class == job.ClassRetryable && errors.Is(err, context.DeadlineExceeded) && kill.Err() != nil {
			oc = Outcome{Class: job.ClassCanceled, Status: job.StatusFailed, Code: "Canceled"}
		}
		r.Err, r.Outcome = err, oc
		// A fault, or a call aborted by the hard stop, may have reached Cognito; a
		// connection never made (Unsent) can't have.
		if (oc.Fault && !oc.Unsent) || (err != nil && kill.Err() != nil) {
			r.Ambiguous = true
		}
		if c.OnAttempt != nil {
			c.OnAttempt(oc, latency)
		}
		// The limiter steers by the answers about the quota: not a fault, nor a call
		// cut short by the hard stop, which say nothing about it.
		if oc.Throttle || (!oc.Fault && oc.Class != job.ClassCanceled && kill.Err() == nil) {
			c.Limiter.Observe(t0, oc.Throttle)
		}
		if c.Breaker != nil {
			c.Breaker.Observe(oc.Observation())
		}
		if c.Logger != nil && err != nil {
			attrs := []any{"op", c.Op, "username", username, "attempt", r.Attempts,
				"error_code", oc.Code, "class", oc.Class.String()}
			if oc.Fault {
				attrs = append(attrs, "endpoint", oc.Endpoint, "error", oc.Cause)
			}
			c.Logger.Debug("attempt failed", attrs...)
		}
		switch {
		case oc.Class == job.ClassRetryable && oc.Unsent && c.RetryUnsent:
			// Nothing reached Cognito: retry without spending an attempt; the breaker's
			// --max-outage bounds how long.
			return pacing.RetryableUncounted(err)
		case oc.Class == job.ClassRetryable:
			return pacing.Retryable(err)
		}
		return err
	})
	// Stopped before the first attempt, or between retries: the user was not reached.
	r.Stopped = r.Gated == nil && (err != nil || r.Err != nil) &&
		(r.Err == nil || (r.Outcome.Class == job.ClassRetryable && stop.Err() != nil))
	return r
}
