package cognito_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// recordingLimiter grants every token at once and logs each Wait in order.
type recordingLimiter struct {
	mu  sync.Mutex
	log *[]string
}

func (l *recordingLimiter) Wait(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.log = append(*l.log, "token")
	return nil
}

func (l *recordingLimiter) Observe(time.Time, bool) {}

// The gate runs once each attempt's token is in hand and before the attempt: refused at
// the first, no call is made; refused before a retry, the call ends with what the
// earlier attempt may have done (Ambiguous) and no further attempt.
func TestResenderGate(t *testing.T) {
	t.Parallel()
	refuse := errors.New("refused")

	t.Run("refused before the first attempt: no call", func(t *testing.T) {
		t.Parallel()
		var events []string
		api := newFakeCognito(ok200())
		r := newTestResender(api, drivenClock(t))
		r.Limiter = &recordingLimiter{log: &events}
		res := r.Send(context.Background(), context.Background(), job.Job{Username: "alice", SourceRef: "2"},
			func(n int) error { events = append(events, fmt.Sprint("gate:", n)); return refuse })
		require.Equal(t, []string{"token", "gate:1"}, events, "the gate runs after the token")
		require.Empty(t, api.calls())
		require.Equal(t, job.ClassCanceled, res.Class)
		require.False(t, res.Ambiguous)
		require.Zero(t, res.Attempts)
	})

	t.Run("refused before a retry: ambiguous, one call", func(t *testing.T) {
		t.Parallel()
		var events []string
		api := newFakeCognito(answer{err: sdkWrap(&types.InternalErrorException{Message: aws.String("boom")}, 500, "req-500")})
		r := newTestResender(api, drivenClock(t))
		r.Limiter = &recordingLimiter{log: &events}
		res := r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, func(n int) error {
			events = append(events, fmt.Sprint("gate:", n))
			if n > 1 {
				return refuse
			}
			return nil
		})
		require.Equal(t, []string{"token", "gate:1", "token", "gate:2"}, events)
		require.Len(t, api.calls(), 1)
		require.Equal(t, job.ClassCanceled, res.Class)
		require.True(t, res.Ambiguous, "the 500 may have reached Cognito")
		require.Equal(t, 1, res.Attempts)
	})

	t.Run("passed: every attempt after its token", func(t *testing.T) {
		t.Parallel()
		var events []string
		api := newFakeCognito(throttled(), ok200())
		r := newTestResender(api, drivenClock(t))
		r.Limiter = &recordingLimiter{log: &events}
		res := r.Send(context.Background(), context.Background(), job.Job{Username: "alice"},
			func(n int) error { events = append(events, fmt.Sprint("gate:", n)); return nil })
		require.Equal(t, []string{"token", "gate:1", "token", "gate:2"}, events)
		require.Equal(t, job.StatusSent, res.Status)
		require.Equal(t, 2, res.Attempts)
	})
}
