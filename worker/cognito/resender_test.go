package cognito_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// answer is one scripted reply; fn, when set, runs instead (it gets the call context).
type answer struct {
	out *cip.ResendConfirmationCodeOutput
	err error
	fn  func(ctx context.Context) (*cip.ResendConfirmationCodeOutput, error)
}

// fakeCognito records every input and replies from a script; the last answer repeats.
type fakeCognito struct {
	cognito.API

	mu      sync.Mutex
	script  []answer
	inputs  []*cip.ResendConfirmationCodeInput
	options int
}

var _ cognito.API = (*fakeCognito)(nil)

func newFakeCognito(script ...answer) *fakeCognito { return &fakeCognito{script: script} }

func (f *fakeCognito) ResendConfirmationCode(ctx context.Context, in *cip.ResendConfirmationCodeInput, optFns ...func(*cip.Options)) (*cip.ResendConfirmationCodeOutput, error) {
	f.mu.Lock()
	f.inputs = append(f.inputs, in)
	f.options += len(optFns)
	a := f.script[min(len(f.inputs), len(f.script))-1]
	f.mu.Unlock()
	if a.fn != nil {
		return a.fn(ctx)
	}
	return a.out, a.err
}

func (f *fakeCognito) calls() []*cip.ResendConfirmationCodeInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*cip.ResendConfirmationCodeInput(nil), f.inputs...)
}

func sentOutput(requestID string) *cip.ResendConfirmationCodeOutput {
	out := &cip.ResendConfirmationCodeOutput{CodeDeliveryDetails: &types.CodeDeliveryDetailsType{
		DeliveryMedium: types.DeliveryMediumTypeEmail,
		Destination:    aws.String("a***@e***"),
		AttributeName:  aws.String("email"),
	}}
	if requestID != "" {
		awsmiddleware.SetRequestIDMetadata(&out.ResultMetadata, requestID)
	}
	return out
}

func ok200() answer { return answer{out: sentOutput("req-ok")} }

func throttled() answer {
	return answer{err: sdkWrap(&types.TooManyRequestsException{Message: aws.String("Rate exceeded")}, 400, "req-throttle")}
}

func newTestResender(api cognito.API, clock *clockwork.FakeClock) *cognito.Resender {
	return &cognito.Resender{
		API:         api,
		ClientID:    "client123",
		Limiter:     pacing.NewLimiter(pacing.LimiterConfig{Rate: 0, Clock: clock}),
		Retry:       pacing.Policy{Attempts: 5, Base: testBackoffBase, Max: testBackoffMax},
		CallTimeout: time.Minute,
		Clock:       clock,
	}
}

func TestResenderSuccess(t *testing.T) {
	t.Parallel()

	clock := newFakeClock()
	api := newFakeCognito(ok200())
	r := newTestResender(api, clock)
	res := r.Send(context.Background(), context.Background(), job.Job{Username: "alice", SourceRef: "7"}, nil)

	require.Equal(t, job.Result{
		Username: "alice", Message: job.MessageConfirmation, Status: job.StatusSent, Attempts: 1,
		DeliveryMedium: "EMAIL", Destination: "a***@e***", AttributeName: "email",
		RequestID: "req-ok", SourceRef: "7",
		StartedAt: clockStart, FinishedAt: clockStart, Class: job.ClassNone,
	}, res)

	calls := api.calls()
	require.Len(t, calls, 1)
	in := calls[0]
	require.Equal(t, "client123", aws.ToString(in.ClientId))
	require.Equal(t, "alice", aws.ToString(in.Username))
	require.Nil(t, in.SecretHash)
	require.Nil(t, in.ClientMetadata)
	require.Nil(t, in.AnalyticsMetadata)
	require.Nil(t, in.UserContextData)
	require.Equal(t, int64(0), limiterOf(r).Throttles())
}

func TestResenderSuccessWithoutDetails(t *testing.T) {
	t.Parallel()

	api := newFakeCognito(answer{out: &cip.ResendConfirmationCodeOutput{}})
	res := newTestResender(api, newFakeClock()).Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)
	require.Equal(t, job.StatusSent, res.Status)
	require.Equal(t, "", res.DeliveryMedium)
	require.Equal(t, "", res.RequestID)
	require.Equal(t, 1, res.Attempts)
}

func TestResenderThrottleThenSuccess(t *testing.T) {
	t.Parallel()

	var (
		mu       sync.Mutex
		outcomes []cognito.Outcome
	)
	api := newFakeCognito(throttled(), throttled(), ok200())
	r := newTestResender(api, drivenClock(t))
	r.OnAttempt = func(o cognito.Outcome, _ time.Duration) {
		mu.Lock()
		outcomes = append(outcomes, o)
		mu.Unlock()
	}
	res := r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)

	require.Equal(t, job.StatusSent, res.Status)
	require.Equal(t, job.ClassNone, res.Class)
	require.Equal(t, 3, res.Attempts)
	require.Equal(t, "", res.ErrorCode)
	require.Equal(t, "", res.ErrorMessage)
	require.Equal(t, "req-ok", res.RequestID)
	require.Len(t, api.calls(), 3)
	require.Equal(t, int64(2), limiterOf(r).Throttles())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, outcomes, 3)
	require.True(t, outcomes[0].Throttle)
	require.True(t, outcomes[1].Throttle)
	require.Equal(t, job.ClassNone, outcomes[2].Class)
}

func TestResenderThrottleForever(t *testing.T) {
	t.Parallel()

	api := newFakeCognito(throttled())
	r := newTestResender(api, drivenClock(t))
	r.Retry.Attempts = 4
	res := r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)

	require.Equal(t, job.StatusFailed, res.Status)
	require.Equal(t, job.ClassRetryable, res.Class)
	require.Equal(t, 4, res.Attempts)
	require.Equal(t, "TooManyRequestsException", res.ErrorCode)
	require.Equal(t, "gave up after 4 attempts: Rate exceeded", res.ErrorMessage)
	require.Equal(t, "req-throttle", res.RequestID)
	require.False(t, res.Ambiguous, "a throttled call sent nothing")
	require.Len(t, api.calls(), 4)
	require.Equal(t, int64(4), limiterOf(r).Throttles())
}

func TestResenderMaxAttemptsOne(t *testing.T) {
	t.Parallel()

	for _, n := range []int{0, 1} {
		api := newFakeCognito(throttled())
		r := newTestResender(api, newFakeClock())
		r.Retry.Attempts = n
		res := r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)
		require.Equal(t, 1, res.Attempts, "MaxAttempts=%d", n)
		require.Len(t, api.calls(), 1)
	}
}

func TestResenderFaultRetriedAndBreaker(t *testing.T) {
	t.Parallel()

	clock := drivenClock(t)
	api := newFakeCognito(
		answer{err: sdkWrap(&types.InternalErrorException{Message: aws.String("internal")}, 500, "r")},
		ok200(),
	)
	r := newTestResender(api, clock)
	var (
		trips       []time.Duration
		pausedAfter bool
	)
	r.Breaker = &pacing.Breaker{Limiter: limiterOf(r), Threshold: 1, Base: time.Second, Max: time.Minute,
		OnTrip: func(d time.Duration) {
			trips = append(trips, d)
			pausedAfter = paused(limiterOf(r))
			clock.Advance(d) // let the retry through
		}, Clock: clock}
	res := r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)

	require.Equal(t, []time.Duration{time.Second}, trips)
	require.True(t, pausedAfter, "the trip paused the shared limiter")
	require.Equal(t, job.StatusSent, res.Status)
	require.Equal(t, 2, res.Attempts)
	require.True(t, res.Ambiguous, "a 5xx attempt may have sent a code")
	require.Len(t, api.calls(), 2)
	require.Equal(t, int64(0), limiterOf(r).Throttles())
}

func TestResenderPerUserNotRetried(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		err    error
		status job.Status
		code   string
		msg    string
	}{
		{"attempt limit", &types.LimitExceededException{Message: aws.String(msgAttemptLimit)}, job.StatusLimitExceeded, "LimitExceededException", msgAttemptLimit},
		{"already confirmed", &types.InvalidParameterException{Message: aws.String("User is already confirmed.")}, job.StatusAlreadyConfirmed, "InvalidParameterException", "User is already confirmed."},
		{"not found", &types.UserNotFoundException{Message: aws.String("Username/client id combination not found.")}, job.StatusUserNotFound, "UserNotFoundException", "Username/client id combination not found."},
		{"lambda", &types.UserLambdaValidationException{Message: aws.String("PreSignUp failed")}, job.StatusFailed, "UserLambdaValidationException", "PreSignUp failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeCognito(answer{err: sdkWrap(tt.err, 400, "req-pu")}, ok200())
			res := newTestResender(api, newFakeClock()).Send(context.Background(), context.Background(), job.Job{Username: "alice", SourceRef: "3"}, nil)
			require.Equal(t, job.Result{
				Username: "alice", Message: job.MessageConfirmation, Status: tt.status, Attempts: 1, ErrorCode: tt.code, ErrorMessage: tt.msg,
				RequestID: "req-pu", SourceRef: "3", StartedAt: clockStart, FinishedAt: clockStart,
				Class: job.ClassPerUser,
			}, res)
			require.Len(t, api.calls(), 1)
		})
	}
}

func TestResenderSystemic(t *testing.T) {
	t.Parallel()

	for name, c := range map[string]struct {
		err   error
		class job.ErrorClass
	}{
		"daily email limit": {&types.LimitExceededException{Message: aws.String(msgDailyEmail)}, job.ClassSpent},
		"not authorized":    {&types.NotAuthorizedException{Message: aws.String("Unable to verify secret hash for client client123")}, job.ClassSystemic},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := c.err
			api := newFakeCognito(answer{err: sdkWrap(err, 400, "req-sys")}, ok200())
			res := newTestResender(api, newFakeClock()).Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)
			require.Equal(t, c.class, res.Class)
			require.Equal(t, job.StatusFailed, res.Status)
			require.Equal(t, cognito.Classify(err).Code, res.ErrorCode)
			require.Equal(t, cognito.Classify(err).Fix, res.Fix)
			require.NotEmpty(t, res.Fix)
			require.Equal(t, 1, res.Attempts)
			require.Len(t, api.calls(), 1)
		})
	}
}

func TestResenderInput(t *testing.T) {
	t.Parallel()

	t.Run("secret hash", func(t *testing.T) {
		t.Parallel()
		api := newFakeCognito(ok200())
		r := newTestResender(api, newFakeClock())
		r.ClientSecret = []byte("s3cr3t")
		r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)
		require.Equal(t, "kOPeHzvKtscBvBM4zlIffwOT074cplXWBq9MCfoDa4k=", aws.ToString(api.calls()[0].SecretHash))
		require.Equal(t, cognito.SecretHash([]byte("s3cr3t"), "alice", "client123"), aws.ToString(api.calls()[0].SecretHash))
	})
	t.Run("empty secret sends no hash", func(t *testing.T) {
		t.Parallel()
		api := newFakeCognito(ok200())
		r := newTestResender(api, newFakeClock())
		r.ClientSecret = []byte{}
		r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)
		require.Nil(t, api.calls()[0].SecretHash)
	})
	t.Run("metadata merge", func(t *testing.T) {
		t.Parallel()
		api := newFakeCognito(ok200())
		r := newTestResender(api, newFakeClock())
		r.Metadata = map[string]string{"campaign": "spring", "lang": "en"}
		r.Send(context.Background(), context.Background(), job.Job{
			Username: "alice", ClientMetadata: map[string]string{"lang": "fr", "tier": "gold"},
		}, nil)
		require.Equal(t, map[string]string{"campaign": "spring", "lang": "fr", "tier": "gold"}, api.calls()[0].ClientMetadata)
		require.Equal(t, map[string]string{"campaign": "spring", "lang": "en"}, r.Metadata, "campaign metadata not mutated")
	})
	t.Run("campaign metadata only", func(t *testing.T) {
		t.Parallel()
		api := newFakeCognito(ok200())
		r := newTestResender(api, newFakeClock())
		r.Metadata = map[string]string{"campaign": "spring"}
		r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)
		require.Equal(t, map[string]string{"campaign": "spring"}, api.calls()[0].ClientMetadata)
	})
	t.Run("job metadata only", func(t *testing.T) {
		t.Parallel()
		api := newFakeCognito(ok200())
		r := newTestResender(api, newFakeClock())
		job := job.Job{Username: "alice", ClientMetadata: map[string]string{"k": "v"}}
		r.Send(context.Background(), context.Background(), job, nil)
		require.Equal(t, map[string]string{"k": "v"}, api.calls()[0].ClientMetadata)
	})
	t.Run("analytics and user context", func(t *testing.T) {
		t.Parallel()
		api := newFakeCognito(ok200())
		r := newTestResender(api, newFakeClock())
		r.AnalyticsEndpointID = "endpoint-1"
		r.Send(context.Background(), context.Background(), job.Job{Username: "alice", UserContextData: "ENC=="}, nil)
		in := api.calls()[0]
		require.NotNil(t, in.AnalyticsMetadata)
		require.Equal(t, "endpoint-1", aws.ToString(in.AnalyticsMetadata.AnalyticsEndpointId))
		require.NotNil(t, in.UserContextData)
		require.Equal(t, "ENC==", aws.ToString(in.UserContextData.EncodedData))
		require.Nil(t, in.UserContextData.IpAddress)
	})
	t.Run("same input on every attempt", func(t *testing.T) {
		t.Parallel()
		api := newFakeCognito(throttled(), ok200())
		r := newTestResender(api, drivenClock(t))
		r.ClientSecret = []byte("s3cr3t")
		r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)
		calls := api.calls()
		require.Len(t, calls, 2)
		require.Equal(t, calls[0], calls[1])
	})
}

func TestResenderStop(t *testing.T) {
	t.Parallel()

	t.Run("stopped before the call", func(t *testing.T) {
		t.Parallel()
		api := newFakeCognito(ok200())
		stop, cancel := context.WithCancel(context.Background())
		cancel()
		res := newTestResender(api, newFakeClock()).Send(stop, context.Background(), job.Job{Username: "alice", SourceRef: "9"}, nil)
		require.Equal(t, job.Result{
			Username: "alice", Message: job.MessageConfirmation, Status: job.StatusFailed, Attempts: 0, ErrorCode: "Canceled",
			SourceRef: "9", StartedAt: clockStart, FinishedAt: clockStart, Class: job.ClassCanceled,
		}, res)
		require.Empty(t, api.calls())
	})
	t.Run("stopped while the limiter is paused", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		api := newFakeCognito(ok200())
		r := newTestResender(api, clock)
		limiterOf(r).PauseFor(time.Hour)
		stop, cancel := context.WithCancel(context.Background())
		done := make(chan job.Result, 1)
		go func() { done <- r.Send(stop, context.Background(), job.Job{Username: "alice"}, nil) }()
		cancel()
		res := <-done
		require.Equal(t, job.ClassCanceled, res.Class)
		require.Equal(t, 0, res.Attempts)
		require.Empty(t, api.calls())
	})
	t.Run("stopped between retries", func(t *testing.T) {
		t.Parallel()
		stop, cancel := context.WithCancel(context.Background())
		api := newFakeCognito(answer{fn: func(context.Context) (*cip.ResendConfirmationCodeOutput, error) {
			cancel() // soft stop arrives while the call is in flight
			return nil, sdkWrap(&types.TooManyRequestsException{Message: aws.String("Rate exceeded")}, 400, "r")
		}}, ok200())
		res := newTestResender(api, newFakeClock()).Send(stop, context.Background(), job.Job{Username: "alice"}, nil)
		require.Equal(t, job.ClassCanceled, res.Class, "a throttled user was not reached: give it back")
		require.Equal(t, 1, res.Attempts)
		require.Equal(t, "TooManyRequestsException", res.ErrorCode)
		require.Len(t, api.calls(), 1)
	})
	t.Run("soft stop lets the call in flight finish", func(t *testing.T) {
		t.Parallel()
		stop, cancel := context.WithCancel(context.Background())
		api := newFakeCognito(answer{fn: func(ctx context.Context) (*cip.ResendConfirmationCodeOutput, error) {
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return sentOutput("req-ok"), nil
		}})
		res := newTestResender(api, newFakeClock()).Send(stop, context.Background(), job.Job{Username: "alice"}, nil)
		require.Equal(t, job.StatusSent, res.Status)
		require.Equal(t, job.ClassNone, res.Class)
		require.Equal(t, 1, res.Attempts)
	})
	t.Run("kill aborts the call in flight", func(t *testing.T) {
		t.Parallel()
		kill, cancel := context.WithCancel(context.Background())
		api := newFakeCognito(answer{fn: func(ctx context.Context) (*cip.ResendConfirmationCodeOutput, error) {
			cancel()
			<-ctx.Done()
			return nil, &smithy.OperationError{Err: ctx.Err()}
		}})
		res := newTestResender(api, newFakeClock()).Send(context.Background(), kill, job.Job{Username: "alice"}, nil)
		require.Equal(t, job.ClassCanceled, res.Class)
		require.Equal(t, "Canceled", res.ErrorCode)
		require.Equal(t, 1, res.Attempts)
		require.Len(t, api.calls(), 1)
	})
	t.Run("kill with a deadline is a cancel, not a timeout", func(t *testing.T) {
		t.Parallel()
		kill, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		api := newFakeCognito(answer{fn: func(ctx context.Context) (*cip.ResendConfirmationCodeOutput, error) {
			return nil, &smithy.OperationError{Err: ctx.Err()}
		}})
		res := newTestResender(api, newFakeClock()).Send(context.Background(), kill, job.Job{Username: "alice"}, nil)
		require.Equal(t, job.ClassCanceled, res.Class)
		require.Equal(t, "Canceled", res.ErrorCode)
		require.Equal(t, 1, res.Attempts)
	})
}

func TestResenderCallTimeout(t *testing.T) {
	t.Parallel()

	api := newFakeCognito(answer{fn: func(ctx context.Context) (*cip.ResendConfirmationCodeOutput, error) {
		<-ctx.Done()
		return nil, &smithy.OperationError{Err: ctx.Err()}
	}})
	r := newTestResender(api, drivenClock(t))
	r.CallTimeout = time.Millisecond
	r.Retry.Attempts = 2
	res := r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)
	require.Equal(t, job.ClassRetryable, res.Class)
	require.Equal(t, job.StatusFailed, res.Status)
	require.Equal(t, "Timeout", res.ErrorCode)
	require.Equal(t, 2, res.Attempts)
	require.Contains(t, res.ErrorMessage, "gave up after 2 attempts: ")
	require.True(t, res.Ambiguous, "a timed-out call may have reached Cognito")
	require.Len(t, api.calls(), 2)
}

func TestResenderTimes(t *testing.T) {
	t.Parallel()

	clock := newFakeClock()
	api := newFakeCognito(answer{fn: func(context.Context) (*cip.ResendConfirmationCodeOutput, error) {
		clock.Advance(1500 * time.Millisecond)
		return sentOutput(""), nil
	}})
	res := newTestResender(api, clock).Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)
	require.Equal(t, clockStart, res.StartedAt)
	require.Equal(t, clockStart.Add(1500*time.Millisecond), res.FinishedAt)
	require.Equal(t, time.UTC, res.StartedAt.Location())
}

// A call aborted by the hard stop may already have reached Cognito: the result must be
// ambiguous, so the engine keeps the intent and a resume reports the user unknown
// instead of calling again (a second ^C must not lead to a second code).
func TestResendAbortedByKillIsAmbiguous(t *testing.T) {
	t.Parallel()
	inCall := make(chan struct{})
	api := newFakeCognito(answer{fn: func(ctx context.Context) (*cip.ResendConfirmationCodeOutput, error) {
		close(inCall)
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	r := newTestResender(api, newFakeClock())
	stop, cancelStop := context.WithCancel(context.Background())
	kill, cancelKill := context.WithCancel(context.Background())
	done := make(chan job.Result)
	go func() { done <- r.Send(stop, kill, job.Job{Username: "alice", SourceRef: "2"}, nil) }()
	<-inCall
	cancelStop()
	cancelKill()
	res := <-done
	require.Equal(t, job.ClassCanceled, res.Class)
	require.True(t, res.Ambiguous)
	require.Equal(t, 1, res.Attempts)
}

func refusedAnswer() answer {
	return answer{err: &smithy.OperationError{Err: &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post",
		URL: "http://127.0.0.1:1/", Err: &net.OpError{Op: "dial", Net: "tcp",
			Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}}}}
}

// A connection never made can't have sent a code: it is retried without spending an
// attempt (the breaker's --max-outage bounds an outage, not --max-attempts), and it
// leaves the job unambiguous, so a stop gives it back to be called on --resume.
func TestResenderUnsentFaults(t *testing.T) {
	t.Parallel()

	t.Run("retried without spending attempts", func(t *testing.T) {
		t.Parallel()
		script := make([]answer, 0, 12)
		for range 10 {
			script = append(script, refusedAnswer())
		}
		api := newFakeCognito(append(script, throttled(), ok200())...)
		r := newTestResender(api, drivenClock(t))
		r.Retry.Attempts = 2
		res := r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)
		require.Equal(t, job.StatusSent, res.Status)
		require.Equal(t, 12, res.Attempts)
		require.False(t, res.Ambiguous, "no refused attempt reached Cognito")
	})
	t.Run("stopped during an outage: given back, not ambiguous", func(t *testing.T) {
		t.Parallel()
		stop, cancel := context.WithCancel(context.Background())
		n := 0
		api := newFakeCognito(answer{fn: func(context.Context) (*cip.ResendConfirmationCodeOutput, error) {
			if n++; n == 20 {
				cancel() // the breaker gives up
			}
			return nil, refusedAnswer().err
		}})
		r := newTestResender(api, drivenClock(t))
		r.Retry.Attempts = 3
		res := r.Send(stop, context.Background(), job.Job{Username: "alice"}, nil)
		require.Equal(t, job.ClassCanceled, res.Class, "given back to the source, no row")
		require.False(t, res.Ambiguous, "abandoned in the ledger: --resume calls it")
		require.Equal(t, 20, res.Attempts)
		require.Equal(t, "ConnectionError", res.ErrorCode)
	})
	t.Run("one ambiguous attempt keeps the job ambiguous", func(t *testing.T) {
		t.Parallel()
		stop, cancel := context.WithCancel(context.Background())
		api := newFakeCognito(
			answer{err: sdkWrap(errors.New("unavailable"), 503, "r")},
			answer{fn: func(context.Context) (*cip.ResendConfirmationCodeOutput, error) {
				cancel()
				return nil, refusedAnswer().err
			}})
		res := newTestResender(api, drivenClock(t)).Send(stop, context.Background(), job.Job{Username: "alice"}, nil)
		require.Equal(t, job.ClassCanceled, res.Class)
		require.True(t, res.Ambiguous, "the 503 may have sent a code")
	})
	t.Run("the breaker hears the endpoint and the error", func(t *testing.T) {
		t.Parallel()
		var got []pacing.Observation
		api := newFakeCognito(refusedAnswer(), ok200())
		r := newTestResender(api, drivenClock(t))
		r.Breaker = breakerFunc(func(o pacing.Observation) { got = append(got, o) })
		r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil)
		require.Equal(t, []pacing.Observation{
			{Class: job.ClassRetryable, Fault: true, Endpoint: "127.0.0.1:1", Cause: "dial tcp: connect: connection refused"},
			{Class: job.ClassNone},
		}, got)
	})
}

type breakerFunc func(pacing.Observation)

func (f breakerFunc) Observe(o pacing.Observation) { f(o) }

// The error chains of the real SDK client and transport, classified: a closed port and a
// host name that does not exist are Unsent; a connection reset after the request was
// read, and a 5xx, may have reached Cognito.
func TestClassifyRealTransport(t *testing.T) {
	t.Parallel()

	call := func(t *testing.T, endpoint string) error {
		t.Helper()
		c := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Retryer: aws.NopRetryer{}})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := c.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String("c"), Username: aws.String("u")})
		require.Error(t, err)
		return err
	}
	closedPort := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		return addr
	}

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		addr := closedPort(t)
		o := cognito.Classify(call(t, "http://"+addr))
		require.True(t, o.Fault && o.Unsent && !o.NoSuchHost, "%+v", o)
		require.Equal(t, addr, o.Endpoint)
		require.Equal(t, "dial tcp "+addr+": connect: connection refused", o.Cause)
	})
	t.Run("host name that does not exist", func(t *testing.T) {
		t.Parallel()
		o := cognito.Classify(call(t, "http://nonexistent.invalid:1"))
		require.True(t, o.Fault && o.Unsent, "%+v", o)
		require.Equal(t, "nonexistent.invalid:1", o.Endpoint)
		require.Contains(t, o.Cause, "lookup nonexistent.invalid")
		// NXDOMAIN where a resolver answers; without one the lookup fails otherwise.
		_, err := net.DefaultResolver.LookupHost(t.Context(), "nonexistent.invalid")
		var dnsErr *net.DNSError
		require.ErrorAs(t, err, &dnsErr)
		require.Equal(t, dnsErr.IsNotFound, o.NoSuchHost)
	})
	t.Run("reset after the request was read", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.(*net.TCPConn).SetLinger(0) // RST
				_ = conn.Close()
			}
		}))
		defer srv.Close()
		o := cognito.Classify(call(t, srv.URL))
		require.True(t, o.Fault, "%+v", o)
		require.False(t, o.Unsent, "the request was written: it may have reached Cognito")
		require.Equal(t, srv.Listener.Addr().String(), o.Endpoint)
	})
	t.Run("503", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		defer srv.Close()
		o := cognito.Classify(call(t, srv.URL))
		require.True(t, o.Fault && !o.Unsent, "%+v", o)
		require.Equal(t, srv.Listener.Addr().String(), o.Endpoint)
		require.Equal(t, "HTTP 503", o.Cause)
	})
}

// obsLimiter records what the call tells the limiter.
type obsLimiter struct {
	mu   sync.Mutex
	seen []observed
}

type observed struct {
	started   time.Time
	throttled bool
}

func (l *obsLimiter) Wait(ctx context.Context) error { return ctx.Err() }

func (l *obsLimiter) Observe(started time.Time, throttled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, observed{started, throttled})
}

// The limiter steers by answers about the quota: a throttle, and any other answer from
// Cognito (a success, a per-user error), each with the time its attempt started; a fault
// says nothing about the quota and is not reported.
func TestResenderObservesAnswersNotFaults(t *testing.T) {
	t.Parallel()
	clock := drivenClock(t)
	slow := func(a answer) answer { // the call takes 100 ms of the clock
		return answer{fn: func(context.Context) (*cip.ResendConfirmationCodeOutput, error) {
			clock.Advance(100 * time.Millisecond)
			return a.out, a.err
		}}
	}
	fault := answer{err: sdkWrap(&types.InternalErrorException{Message: aws.String("internal")}, 500, "r")}
	notFound := answer{err: sdkWrap(&types.UserNotFoundException{Message: aws.String("Username/client id combination not found.")}, 400, "r")}
	api := newFakeCognito(slow(throttled()), slow(fault), slow(ok200()), slow(notFound))
	r := newTestResender(api, clock)
	lim := &obsLimiter{}
	r.Limiter = lim

	require.Equal(t, job.StatusSent, r.Send(context.Background(), context.Background(), job.Job{Username: "alice"}, nil).Status)
	require.Equal(t, job.StatusUserNotFound, r.Send(context.Background(), context.Background(), job.Job{Username: "bob"}, nil).Status)
	require.Equal(t, []observed{
		{clockStart, true}, // the throttle
		// the success after the throttle, a backoff wait, the fault (not reported) and another wait
		{clockStart.Add(200*time.Millisecond + 2*driveStep), false},
		{clockStart.Add(300*time.Millisecond + 2*driveStep), false}, // the per-user answer
	}, lim.seen)
}
