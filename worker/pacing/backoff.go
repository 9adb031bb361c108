package pacing

import (
	"context"
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

// Backoff is a fresh go-retry backoff for p (backoffs are stateful: one per job or call).
func (p Policy) Backoff() retry.Backoff {
	return retry.WithMaxRetries(uint64(max(p.Attempts, 1)-1), p.schedule())
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
// (retry.RetryableError marks one), p.Attempts are spent, or ctx ends. It is go-retry's
// Do: the one retry layer of every AWS call (the SDK clients have aws.NopRetryer).
func Retry(ctx context.Context, p Policy, fn func(ctx context.Context) error) error {
	return retry.Do(ctx, p.Backoff(), fn)
}

// Retryable marks err as worth another attempt (retry.RetryableError; nil stays nil).
func Retryable(err error) error { return retry.RetryableError(err) }
