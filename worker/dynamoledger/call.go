package dynamoledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// Recorder counts the table calls (worker/metrics implements it).
type Recorder interface {
	// LedgerCall counts one table call; errCode is "" when it succeeded (a lost
	// condition is an answer).
	LedgerCall(op, errCode string)
}

// caller makes table calls through the project's one retry layer: each attempt bounded
// by timeout, failed ones retried with policy's backoff while the SDK classifies the
// error as transient (the client has aws.NopRetryer), the last error kept.
type caller struct {
	table   string
	region  string // for the errors: "" when not known
	timeout time.Duration
	policy  pacing.Policy
	metrics Recorder    // nil: nothing recorded
	clock   clock.Clock // the retries' waits
}

// do runs fn (one call named op) until it succeeds, fails for good, or ctx ends.
func (c caller) do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	var last error
	err := pacing.Retry(ctx, c.clock, c.policy, func(ctx context.Context) error {
		callCtx, cancel := context.WithTimeout(ctx, c.timeout)
		err := fn(callCtx)
		cancel()
		c.count(op, err)
		last = err
		if err != nil && ctx.Err() == nil && awserr.Transient(err) {
			return pacing.Retryable(err)
		}
		return err
	})
	if err != nil && last != nil {
		err = last // go-retry returns the context's cause when ctx ends: keep the table's answer
	}
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("%s: %s: %w", c.where(), op, err)
	}
	return err
}

// once runs fn (one call named op) a single time under the call's timeout: a write that
// must not be repeated (the budget's give-back: a retry whose first attempt landed would
// give back twice).
func (c caller) once(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := fn(callCtx)
	c.count(op, err)
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("%s: %s: %w", c.where(), op, err)
	}
	return err
}

// count records one call named op that ended with err (nothing without a recorder).
func (c caller) count(op string, err error) {
	if c.metrics != nil {
		c.metrics.LedgerCall(op, ledgerCode(err))
	}
}

func (c caller) where() string { return where(c.table, c.region) }

// where names a table in errors: its name and region ("table ledger in eu-west-1").
func where(table, region string) string { return "table " + named(table, region) }

// named is a table's name and region ("ledger in eu-west-1"), without the region when
// it is not known.
func named(table, region string) string {
	if region == "" {
		return table
	}
	return table + " in " + region
}

// ledgerCode is the metrics label of a table call's answer: "" for success, and a lost
// condition is an answer, not an error.
func ledgerCode(err error) string {
	if err == nil || isConditionFailed(err) {
		return ""
	}
	return awserr.Label(err)
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// Caller makes calls on the table for the other kinds of record that share it (a fleet's
// replica heartbeats, worker/fleet) the way the ledger makes its own: through the one
// retry layer, each attempt bounded, counted in the ledger metrics under op.
type Caller struct{ c caller }

// NewCaller returns a Caller on table in region (named in its errors), waiting between
// retries on clk: zero timeout and policy get CallTimeoutDefault and RetryDefault; m may
// be nil.
func NewCaller(table, region string, timeout time.Duration, policy pacing.Policy, m Recorder, clk clock.Clock) Caller {
	if timeout <= 0 {
		timeout = CallTimeoutDefault
	}
	if policy.Attempts <= 0 {
		policy = RetryDefault
	}
	return Caller{caller{table: table, region: region, timeout: timeout, policy: policy, metrics: m, clock: clk}}
}

// Do runs fn (one call named op) until it succeeds, fails for good, or ctx ends; the
// error names the table and op.
func (c Caller) Do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	return c.c.do(ctx, op, fn)
}
