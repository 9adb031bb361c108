package cognito

import (
	"context"
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

// ResendConfirmationCode's account-wide rate quota: Cognito's quotas page puts it in the
// UserResourceRead category (with GetDevice, ListDevices, AdminGetDevice,
// AdminListDevices, AdminListGroupsForUser, GetUserAttributeVerificationCode and
// AdminListUserAuthEvents), 50 requests/s per account and region by default, adjustable.
const (
	QuotaCategory = "UserResourceRead"
	QuotaDefault  = 50.0
)

// CallTimeoutDefault is --call-timeout: the bound of one ResendConfirmationCode call.
const CallTimeoutDefault = 10 * time.Second

// Limiter is what the resender needs of the shared rate limiter (*pacing.Limiter).
type Limiter interface {
	// Wait blocks until an attempt may start; it fails once ctx ends.
	Wait(ctx context.Context) error
	// Observe reports how an attempt that started at started was answered: throttled
	// (TooManyRequestsException) or any other answer from Cognito. Faults are not
	// answers about the quota and are not reported.
	Observe(started time.Time, throttled bool)
}

// Breaker watches the health of the calls (*pacing.Breaker).
type Breaker interface {
	Observe(pacing.Observation)
}

// Resender sends one user's code, retrying throttles and faults with backoff. It is the
// only retry layer: the Cognito client must be built with aws.NopRetryer{}. An attempt
// whose connection was never made (Unsent) is retried without spending an attempt:
// Breaker's MaxOutage bounds an outage, not MaxAttempts.
type Resender struct {
	API                 API
	ClientID            string
	ClientSecret        []byte // optional; never logged
	Metadata            map[string]string
	AnalyticsEndpointID string
	Limiter             Limiter
	Breaker             Breaker // optional
	// Retry is the retries (config.Config.Retry: --max-attempts, --backoff-base,
	// --backoff-max; zero fields: the pacing defaults). Attempts counts every attempt.
	Retry pacing.Policy
	// CallTimeout bounds each call (zero: CallTimeoutDefault).
	CallTimeout time.Duration
	Logger      *slog.Logger
	Clock       clock.Clock
	// OnAttempt, when set, observes every attempt (metrics).
	OnAttempt func(o Outcome, latency time.Duration)
}

// Resend runs one job to a result. stop ends limiter waits and backoff sleeps (soft
// stop: the job comes back with ClassCanceled); kill also aborts a call in flight. gate
// (optional) is Call.Gate: a refused attempt also comes back with ClassCanceled, Ambiguous
// when an earlier attempt may have reached Cognito.
func (r *Resender) Send(stop, kill context.Context, j job.Job, gate func(n int) error) job.Result {
	clk := clock.Must(r.Clock, "cognito.Resender")
	res := job.Result{Username: j.Username, SourceRef: j.SourceRef, StartedAt: clk.Now().UTC(),
		Message: job.MessageConfirmation}
	in := r.input(j)
	call := Call{Op: "ResendConfirmationCode", Limiter: r.Limiter, Breaker: r.Breaker,
		Policy:      r.Retry,
		CallTimeout: r.CallTimeout, OnAttempt: r.OnAttempt, Logger: r.Logger, Clock: r.Clock, RetryUnsent: true,
		Gate: gate}
	var out *cip.ResendConfirmationCodeOutput
	ran := call.Run(stop, kill, j.Username, func(ctx context.Context) (err error) {
		out, err = r.API.ResendConfirmationCode(ctx, in)
		return err
	})
	res.FinishedAt = clk.Now().UTC()
	res.Attempts, res.Ambiguous, res.Class = ran.Attempts, ran.Ambiguous, ran.Outcome.Class

	if ran.OK() {
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
	}
	if ran.Stopped || ran.Gated != nil {
		// Stopped (or refused by the gate) before the first attempt, or between retries of a throttle or fault:
		// the user was not reached; give the job back.
		res.Class = job.ClassCanceled
	}
	res.Status = ran.Outcome.Status
	res.ErrorCode = ran.Outcome.Code
	res.Fix = ran.Outcome.Fix
	res.ErrorMessage = ErrorMessage(ran.Err)
	res.RequestID = RequestID(ran.Err)
	if ran.Outcome.Class == job.ClassRetryable {
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
