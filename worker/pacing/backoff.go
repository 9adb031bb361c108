package pacing

import (
	"context"
	"errors"
	"time"

	"github.com/sethvargo/go-retry"

	"github.com/cognito-resend/cognito-resend/worker/clock"
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
	base := positiveOr(p.Base, BackoffBaseDefault)
	b := retry.WithCappedDuration(max(positiveOr(p.Max, BackoffMaxDefault), base), retry.NewExponential(base))
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
// (Retryable, RetryableUncounted), p.Attempts are spent, or ctx ends; between attempts
// it waits p's schedule (go-retry's backoff) on clk. It is the one retry layer of every
// AWS call (the SDK clients have aws.NopRetryer) and of every loop that waits and tries
// again. An attempt marked RetryableUncounted is retried on the same schedule without
// spending one of p.Attempts. It returns the last attempt's error, unwrapped, or the
// context's cause when ctx ends first.
func Retry(ctx context.Context, clk clock.Clock, p Policy, fn func(ctx context.Context) error) error {
	return RetryNotify(ctx, clk, p, fn, nil)
}

// RetryNotify is Retry that tells notify (when not nil) of each failed attempt it will
// try again, and how long it waits first: for a loop that logs its retries.
func RetryNotify(ctx context.Context, clk clock.Clock, p Policy, fn func(ctx context.Context) error,
	notify func(err error, wait time.Duration)) error {
	if clk == nil {
		panic("pacing.Retry: nil clock") // a silent system clock would undo every test's fake clock
	}
	sched, left := p.schedule(), max(p.Attempts, 1)-1
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		err := fn(ctx)
		var m *marked
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &m):
			return err
		case m.uncounted:
		case left == 0:
			return m.err
		default:
			left--
		}
		d, _ := sched.Next()
		if notify != nil {
			notify(m.err, d)
		}
		if err := clock.Sleep(ctx, clk, d); err != nil {
			return err
		}
	}
}

// Retryable marks err as worth another attempt (nil stays nil).
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err}
}

// RetryableUncounted marks err as worth another attempt that does not count against
// Policy.Attempts: the failed one cannot have reached the service (its connection was
// never made), so it cost nothing but time, and what bounds its retries is the caller's
// context (the breaker's --max-outage). nil stays nil.
func RetryableUncounted(err error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, uncounted: true}
}

// marked is an error Retry tries again after.
type marked struct {
	err       error
	uncounted bool
}

func (e *marked) Error() string { return e.err.Error() }
func (e *marked) Unwrap() error { return e.err }
