package pacing_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

func TestRetry(t *testing.T) {
	t.Parallel()

	errFlaky, errFatal := errors.New("flaky"), errors.New("fatal")
	calls := 0
	err := pacing.Retry(context.Background(), pacing.Policy{Attempts: 3, Base: time.Nanosecond}, func(context.Context) error {
		calls++
		return pacing.Retryable(errFlaky)
	})
	require.ErrorIs(t, err, errFlaky)
	require.Equal(t, 3, calls, "Attempts in all")

	calls = 0
	err = pacing.Retry(context.Background(), pacing.Policy{Attempts: 3, Base: time.Nanosecond}, func(context.Context) error {
		calls++
		return errFatal
	})
	require.ErrorIs(t, err, errFatal)
	require.Equal(t, 1, calls, "an error not marked retryable is final")

	calls = 0
	_ = pacing.Retry(context.Background(), pacing.Policy{}, func(context.Context) error {
		calls++
		return pacing.Retryable(errFlaky)
	})
	require.Equal(t, 1, calls, "zero Attempts: one")
}

// An attempt that could not have reached the service costs no attempt: only the
// counted ones end the retries; the context bounds the rest.
func TestRetryUncounted(t *testing.T) {
	t.Parallel()

	errRefused, errFlaky := errors.New("refused"), errors.New("flaky")
	calls := 0
	err := pacing.Retry(context.Background(), pacing.Policy{Attempts: 3, Base: time.Nanosecond}, func(context.Context) error {
		calls++
		if calls%2 == 1 {
			return pacing.RetryableUncounted(errRefused)
		}
		return pacing.Retryable(errFlaky)
	})
	require.ErrorIs(t, err, errFlaky)
	require.Equal(t, 6, calls, "3 counted attempts, each after an uncounted one")

	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	err = pacing.Retry(ctx, pacing.Policy{Attempts: 1, Base: time.Nanosecond, Max: time.Microsecond}, func(context.Context) error {
		if calls++; calls == 50 {
			cancel()
		}
		return pacing.RetryableUncounted(errRefused)
	})
	require.ErrorIs(t, err, context.Canceled, "only the context ends uncounted retries")
	require.Equal(t, 50, calls)

	calls = 0
	err = pacing.Retry(context.Background(), pacing.Policy{Attempts: 2, Base: time.Nanosecond}, func(context.Context) error {
		if calls++; calls < 5 {
			return pacing.RetryableUncounted(errRefused)
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 5, calls)
	require.NoError(t, pacing.RetryableUncounted(nil))
}
