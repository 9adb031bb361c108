package cognito

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// CallTimeoutDefault is --call-timeout: the bound of one ResendConfirmationCode call.
const CallTimeoutDefault = 10 * time.Second

// Limiter is what the resender needs of the shared rate limiter (*pacing.Limiter).
type Limiter interface {
	// Wait blocks until an attempt may start; it fails once ctx ends.
	Wait(ctx context.Context) error
	// OnThrottle reports a TooManyRequestsException.
	OnThrottle()
}

// Breaker watches the health of the calls (*pacing.Breaker).
type Breaker interface {
	Observe(class job.ErrorClass, fault bool)
}

// Resender sends one user's code, retrying throttles and faults with backoff. It is the
// only retry layer: the Cognito client must be built with aws.NopRetryer{}.
type Resender struct {
	API                 API
	ClientID            string
	ClientSecret        []byte // optional; never logged
	Metadata            map[string]string
	AnalyticsEndpointID string
	Limiter             Limiter
	Breaker             Breaker // optional
	// MaxAttempts counts every attempt (at least one); BackoffBase and BackoffMax shape
	// the pacing.Policy between them (zero: the pacing defaults).
	MaxAttempts int
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// CallTimeout bounds each call (zero: CallTimeoutDefault).
	CallTimeout time.Duration
	Logger      *slog.Logger
	Clock       clock.Clock
	// OnAttempt, when set, observes every attempt (metrics).
	OnAttempt func(o Outcome, latency time.Duration)
}

// Resend runs one job to a result. stop ends limiter waits and backoff sleeps (soft
// stop: the job comes back with ClassCanceled); kill also aborts a call in flight.
func (r *Resender) Resend(stop, kill context.Context, j job.Job) job.Result {
	clk := clock.Or(r.Clock)
	callTimeout := r.CallTimeout
	if callTimeout <= 0 {
		callTimeout = CallTimeoutDefault
	}
	res := job.Result{Username: j.Username, SourceRef: j.SourceRef, StartedAt: clk.Now().UTC()}
	in := r.input(j)

	var (
		lastErr error
		lastOut = Outcome{Class: job.ClassCanceled, Status: job.StatusFailed, Code: "Canceled"}
		out     *cip.ResendConfirmationCodeOutput
	)
	policy := pacing.Policy{Attempts: r.MaxAttempts, Base: r.BackoffBase, Max: r.BackoffMax}
	err := pacing.Retry(stop, policy, func(context.Context) error {
		if err := r.Limiter.Wait(stop); err != nil {
			return err // stopping: not retryable, no attempt made
		}
		res.Attempts++
		callCtx, cancel := context.WithTimeout(kill, callTimeout)
		t0 := clk.Now()
		o, err := r.API.ResendConfirmationCode(callCtx, in)
		latency := clk.Since(t0)
		cancel()
		oc := Classify(err)
		if oc.Class == job.ClassRetryable && errors.Is(err, context.DeadlineExceeded) && kill.Err() != nil {
			oc = Outcome{Class: job.ClassCanceled, Status: job.StatusFailed, Code: "Canceled"}
		}
		lastErr, lastOut, out = err, oc, o
		// A fault, or a call aborted by the hard stop, may have reached Cognito.
		if oc.Fault || (err != nil && kill.Err() != nil) {
			res.Ambiguous = true
		}
		if r.OnAttempt != nil {
			r.OnAttempt(oc, latency)
		}
		if oc.Throttle {
			r.Limiter.OnThrottle()
		}
		if r.Breaker != nil {
			r.Breaker.Observe(oc.Class, oc.Fault)
		}
		if r.Logger != nil && err != nil {
			r.Logger.Debug("attempt failed", "username", j.Username, "attempt", res.Attempts,
				"error_code", oc.Code, "class", oc.Class.String())
		}
		if oc.Class == job.ClassRetryable {
			return pacing.Retryable(err)
		}
		return err
	})
	res.FinishedAt = clk.Now().UTC()
	res.Class = lastOut.Class

	switch {
	case err == nil && lastErr == nil:
		res.Status, res.Class = job.StatusSent, job.ClassNone
		if d := out.CodeDeliveryDetails; d != nil {
			res.DeliveryMedium = string(d.DeliveryMedium)
			res.Destination = aws.ToString(d.Destination)
			res.AttributeName = aws.ToString(d.AttributeName)
		}
		if id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); ok {
			res.RequestID = id
		}
		return res
	case lastOut.Class == job.ClassRetryable && stop.Err() != nil:
		// Stopped between retries: the user was not reached (throttle/fault); give it back.
		res.Class = job.ClassCanceled
	case lastErr == nil:
		// Stopped before the first attempt.
		res.Class = job.ClassCanceled
	}
	res.Status = lastOut.Status
	res.ErrorCode = lastOut.Code
	res.Fix = lastOut.Fix
	res.ErrorMessage = ErrorMessage(lastErr)
	res.RequestID = RequestID(lastErr)
	if lastOut.Class == job.ClassRetryable {
		res.ErrorMessage = fmt.Sprintf("gave up after %d attempts: %s", res.Attempts, res.ErrorMessage)
	}
	return res
}

func (r *Resender) input(j job.Job) *cip.ResendConfirmationCodeInput {
	in := &cip.ResendConfirmationCodeInput{
		ClientId: aws.String(r.ClientID),
		Username: aws.String(j.Username),
	}
	if len(r.ClientSecret) > 0 {
		in.SecretHash = aws.String(SecretHash(r.ClientSecret, j.Username, r.ClientID))
	}
	if len(r.Metadata) > 0 || len(j.ClientMetadata) > 0 {
		md := make(map[string]string, len(r.Metadata)+len(j.ClientMetadata))
		maps.Copy(md, r.Metadata)
		maps.Copy(md, j.ClientMetadata) // per-row values win
		in.ClientMetadata = md
	}
	if r.AnalyticsEndpointID != "" {
		in.AnalyticsMetadata = &types.AnalyticsMetadataType{AnalyticsEndpointId: aws.String(r.AnalyticsEndpointID)}
	}
	if j.UserContextData != "" {
		in.UserContextData = &types.UserContextDataType{EncodedData: aws.String(j.UserContextData)}
	}
	return in
}
