package pacing_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

func TestPolicyDelay(t *testing.T) {
	t.Parallel()

	exact := pacing.Policy{Base: 10 * time.Second, Max: time.Minute, Exact: true}
	for n, want := range map[int]time.Duration{0: 10 * time.Second, 1: 10 * time.Second, 2: 20 * time.Second,
		3: 40 * time.Second, 4: time.Minute, 1000: time.Minute} {
		require.Equal(t, want, exact.Delay(n), "Delay(%d)", n)
	}
	jittered := pacing.Policy{Base: 400 * time.Millisecond, Max: 20 * time.Second}
	for n, mid := range map[int]time.Duration{1: 400 * time.Millisecond, 3: 1600 * time.Millisecond, 10: 20 * time.Second} {
		for range 50 {
			d := jittered.Delay(n)
			require.GreaterOrEqual(t, d, mid/2, "Delay(%d)", n)
			require.LessOrEqual(t, d, mid*3/2, "Delay(%d)", n)
		}
	}
	require.Equal(t, pacing.BackoffBaseDefault, pacing.Policy{Exact: true}.Delay(1), "zero Base: the default")
}

// retryOnClock runs pacing.Retry on a fake clock in the background and advances the clock
// by each wait the retry starts, until it returns; it returns the fake time that passed and
// Retry's error.
func retryOnClock(t *testing.T, ctx context.Context, p pacing.Policy, fn func(context.Context) error) (time.Duration, error) {
	t.Helper()
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	start := clk.Now()
	done := make(chan error, 1)
	go func() { done <- pacing.Retry(ctx, clk, p, fn) }()
	for {
		select {
		case err := <-done:
			return clk.Since(start), err
		default:
		}
		bctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		if clk.BlockUntilContext(bctx, 1) == nil {
			clk.Advance(p.Max) // every wait of these policies is at most Max
		}
		cancel()
	}
}

func TestRetry(t *testing.T) {
	t.Parallel()

	errFlaky, errFatal := errors.New("flaky"), errors.New("fatal")
	exact := pacing.Policy{Attempts: 3, Base: time.Second, Max: 4 * time.Second, Exact: true}
	calls := 0
	waited, err := retryOnClock(t, t.Context(), exact, func(context.Context) error {
		calls++
		return pacing.Retryable(errFlaky)
	})
	require.ErrorIs(t, err, errFlaky)
	require.Equal(t, 3, calls, "Attempts in all")
	require.Equal(t, 8*time.Second, waited, "two waits on the clock, each advanced by Max")

	calls = 0
	waited, err = retryOnClock(t, t.Context(), exact, func(context.Context) error {
		calls++
		return errFatal
	})
	require.ErrorIs(t, err, errFatal)
	require.Equal(t, 1, calls, "an error not marked retryable is final")
	require.Zero(t, waited)

	calls = 0
	_, _ = retryOnClock(t, t.Context(), pacing.Policy{Max: time.Second}, func(context.Context) error {
		calls++
		return pacing.Retryable(errFlaky)
	})
	require.Equal(t, 1, calls, "zero Attempts: one")
}

// Retry waits on the clock it is given: nothing happens until that clock moves, and the
// wait is the policy's delay to the nanosecond.
func TestRetryWaitsOnTheClock(t *testing.T) {
	t.Parallel()

	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	p := pacing.Policy{Attempts: 2, Base: 3 * time.Second, Exact: true}
	var calls atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- pacing.Retry(t.Context(), clk, p, func(context.Context) error {
			calls.Add(1)
			return pacing.Retryable(errors.New("flaky"))
		})
	}()
	require.NoError(t, clk.BlockUntilContext(t.Context(), 1))
	require.EqualValues(t, 1, calls.Load())
	clk.Advance(3*time.Second - time.Nanosecond)
	require.EqualValues(t, 1, calls.Load(), "not before the delay")
	clk.Advance(time.Nanosecond)
	require.Error(t, <-done)
	require.EqualValues(t, 2, calls.Load())

	require.PanicsWithValue(t, "pacing.Retry: nil clock", func() {
		_ = pacing.Retry(t.Context(), nil, p, func(context.Context) error { return nil })
	})
}

// A context that ends during a wait ends the retry with its cause.
func TestRetryStopsWithTheContext(t *testing.T) {
	t.Parallel()

	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancelCause(t.Context())
	stopped := errors.New("stopped")
	done := make(chan error, 1)
	go func() {
		done <- pacing.Retry(ctx, clk, pacing.Policy{Attempts: 5}, func(context.Context) error {
			return pacing.Retryable(errors.New("flaky"))
		})
	}()
	require.NoError(t, clk.BlockUntilContext(t.Context(), 1))
	cancel(stopped)
	require.ErrorIs(t, <-done, stopped)
}

// An attempt that could not have reached the service costs no attempt: only the
// counted ones end the retries; the context bounds the rest.
func TestRetryUncounted(t *testing.T) {
	t.Parallel()

	errRefused, errFlaky := errors.New("refused"), errors.New("flaky")
	p := pacing.Policy{Attempts: 3, Base: time.Second, Max: time.Second}
	calls := 0
	_, err := retryOnClock(t, t.Context(), p, func(context.Context) error {
		calls++
		if calls%2 == 1 {
			return pacing.RetryableUncounted(errRefused)
		}
		return pacing.Retryable(errFlaky)
	})
	require.ErrorIs(t, err, errFlaky)
	require.Equal(t, 6, calls, "3 counted attempts, each after an uncounted one")

	ctx, cancel := context.WithCancel(t.Context())
	calls = 0
	_, err = retryOnClock(t, ctx, pacing.Policy{Attempts: 1, Base: time.Second, Max: time.Second}, func(context.Context) error {
		if calls++; calls == 50 {
			cancel()
		}
		return pacing.RetryableUncounted(errRefused)
	})
	require.ErrorIs(t, err, context.Canceled, "only the context ends uncounted retries")
	require.Equal(t, 50, calls)

	calls = 0
	_, err = retryOnClock(t, t.Context(), pacing.Policy{Attempts: 2, Base: time.Second, Max: time.Second}, func(context.Context) error {
		if calls++; calls < 5 {
			return pacing.RetryableUncounted(errRefused)
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 5, calls)
	require.NoError(t, pacing.RetryableUncounted(nil))
}

// RetryNotify tells its caller of each attempt it will try again and the wait before
// it (the queue's receive loop logs them), and nothing of the last one.
func TestRetryNotify(t *testing.T) {
	t.Parallel()

	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	errFlaky := errors.New("flaky")
	p := pacing.Policy{Attempts: 3, Base: time.Second, Max: 4 * time.Second, Exact: true}
	var heard []time.Duration
	done := make(chan error, 1)
	go func() {
		done <- pacing.RetryNotify(t.Context(), clk, p, func(context.Context) error { return pacing.Retryable(errFlaky) },
			func(err error, wait time.Duration) {
				require.Equal(t, errFlaky, err, "the attempt's own error, unmarked")
				heard = append(heard, wait)
			})
	}()
	for _, d := range []time.Duration{time.Second, 2 * time.Second} {
		bctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		require.NoError(t, clk.BlockUntilContext(bctx, 1))
		cancel()
		clk.Advance(d)
	}
	require.ErrorIs(t, <-done, errFlaky)
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second}, heard)
}
