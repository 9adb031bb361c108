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

	require.Equal(t, clock.Real(), clock.Or(nil))
	require.Equal(t, clock.Clock(fake), clock.Or(fake))
}
