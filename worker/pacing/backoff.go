package pacing

import (
	"context"
	"errors"
	"time"

	"github.com/sethvargo/go-retry"
)

// Defaults of --max-attempts, --backoff-base and --backoff-max: the schedule of a retried
// Cognito call.
const (
	AttemptsDefault    = 8
	BackoffBaseDefault = 200 * time.Millisecond
	BackoffMaxDefault  = 20 * time.Second
)

// Policy is the one backoff schedule of the project, for every retried call and every
// loop that waits before trying again: Attempts in all (at least one), the first delay
// Base, doubling, capped at Max, ±50 % jitter (none when Exact). Zero Base and Max get
// BackoffBaseDefault and BackoffMaxDefault. It is github.com/sethvargo/go-retry's
// exponential backoff, capped and jittered.
type Policy struct {
	Attempts  int
	Base, Max time.Duration
	// Exact: no jitter, for a delay that is computed rather than slept (an SQS
	// visibility timeout the operator reads back).
	Exact bool
}

// schedule is p's sequence of delays, without an end.
func (p Policy) schedule() retry.Backoff {
	base := cmpOr(p.Base, BackoffBaseDefault)
	b := retry.WithCappedDuration(max(cmpOr(p.Max, BackoffMaxDefault), base), retry.NewExponential(base))
	if !p.Exact {
		b = retry.WithJitterPercent(50, b)
	}
	return b
}

// Delay is the n-th delay of p (n >= 1: the wait before the second attempt is Delay(1)),
// for loops that schedule a retry instead of sleeping in it.
func (p Policy) Delay(n int) time.Duration {
	b := p.schedule()
	var d time.Duration
	for range min(max(n, 1), 64) { // 2^63 ns: capped long before
		d, _ = b.Next()
	}
	return d
}

// Retry calls fn until it succeeds, returns an error not marked retryable
// (Retryable, RetryableUncounted), p.Attempts are spent, or ctx ends. It is go-retry's
// Do: the one retry layer of every AWS call (the SDK clients have aws.NopRetryer). An
// attempt marked RetryableUncounted is retried on the same schedule without spending
// one of p.Attempts.
func Retry(ctx context.Context, p Policy, fn func(ctx context.Context) error) error {
	var uncounted bool
	sched, left := p.schedule(), max(p.Attempts, 1)-1
	b := retry.BackoffFunc(func() (time.Duration, bool) {
		d, _ := sched.Next()
		switch {
		case uncounted:
			uncounted = false
		case left == 0:
			return 0, true
		default:
			left--
		}
		return d, false
	})
	return retry.Do(ctx, b, func(ctx context.Context) error {
		err := fn(ctx)
		var u *uncountedError
		if errors.As(err, &u) {
			uncounted = true
			return retry.RetryableError(u.err)
		}
		return err
	})
}

// Retryable marks err as worth another attempt (retry.RetryableError; nil stays nil).
func Retryable(err error) error { return retry.RetryableError(err) }

// RetryableUncounted marks err as worth another attempt that does not count against
// Policy.Attempts: the failed one cannot have reached the service (its connection was
// never made), so it cost nothing but time, and what bounds its retries is the caller's
// context (the breaker's --max-outage). nil stays nil.
func RetryableUncounted(err error) error {
	if err == nil {
		return nil
	}
	return &uncountedError{err}
}

type uncountedError struct{ err error }

func (e *uncountedError) Error() string { return e.err.Error() }
func (e *uncountedError) Unwrap() error { return e.err }
