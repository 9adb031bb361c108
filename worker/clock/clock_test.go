package clock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/clock"
)

func TestSleep(t *testing.T) {
	t.Parallel()

	fake := clockwork.NewFakeClock()
	done := make(chan error, 1)
	go func() { done <- clock.Sleep(context.Background(), fake, time.Hour) }()
	require.NoError(t, fake.BlockUntilContext(t.Context(), 1))
	fake.Advance(time.Hour)
	require.NoError(t, <-done, "wakes once the clock has moved on")

	errStop := errors.New("stop")
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() { done <- clock.Sleep(ctx, fake, time.Hour) }()
	require.NoError(t, fake.BlockUntilContext(t.Context(), 1))
	cancel(errStop)
	require.ErrorIs(t, <-done, errStop, "ends with the context's cause")
	require.ErrorIs(t, clock.Sleep(ctx, fake, 0), errStop, "an ended context ends even a zero sleep")
	require.NoError(t, clock.Sleep(context.Background(), fake, 0))

}

// A nil clock is a programming error, said at once: never silently the system clock.
func TestMust(t *testing.T) {
	t.Parallel()

	fake := clockwork.NewFakeClock()
	require.Equal(t, clock.Clock(fake), clock.Must(fake, "x"))
	require.PanicsWithValue(t, "pacing.NewLimiter: a nil clock.Clock (production passes clock.Real(), a test its fake)",
		func() { clock.Must(nil, "pacing.NewLimiter") })
	require.Panics(t, func() { clock.WithTimeout(context.Background(), nil, time.Second) })
}

// A budget on a fake clock ends when that clock reaches it, not before, and says why;
// Err never blocks. On the system clock it is context.WithTimeout.
func TestWithTimeout(t *testing.T) {
	t.Parallel()

	fake := clockwork.NewFakeClock()
	ctx, cancel := clock.WithTimeout(context.Background(), fake, time.Minute)
	defer cancel()
	require.NoError(t, ctx.Err(), "Err does not block while the budget runs")
	fake.Advance(time.Minute - time.Nanosecond)
	require.NoError(t, ctx.Err())
	fake.Advance(time.Nanosecond)
	<-ctx.Done()
	require.ErrorIs(t, context.Cause(ctx), context.DeadlineExceeded)

	ctx, cancel = clock.WithTimeout(context.Background(), fake, time.Minute)
	cancel()
	require.ErrorIs(t, ctx.Err(), context.Canceled)
	require.NotErrorIs(t, context.Cause(ctx), context.DeadlineExceeded)

	parent, stop := context.WithCancel(context.Background())
	ctx, cancel = clock.WithTimeout(parent, fake, time.Minute)
	defer cancel()
	stop()
	<-ctx.Done()

	ctx, cancel = clock.WithTimeout(context.Background(), clock.Real(), time.Hour)
	defer cancel()
	deadline, ok := ctx.Deadline()
	require.True(t, ok, "the system clock's budget is a real deadline")
	require.WithinDuration(t, time.Now().Add(time.Hour), deadline, time.Minute)
}
