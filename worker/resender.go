package worker

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/sethvargo/go-retry"
)

// CognitoAPI is the one Cognito call the resender makes.
type CognitoAPI interface {
	ResendConfirmationCode(ctx context.Context, in *cip.ResendConfirmationCodeInput, optFns ...func(*cip.Options)) (*cip.ResendConfirmationCodeOutput, error)
}

var _ CognitoAPI = (*cip.Client)(nil)

// SecretHash computes Cognito's SECRET_HASH: Base64(HMAC-SHA256(secret, username+clientID)).
func SecretHash(secret []byte, username, clientID string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(username))
	mac.Write([]byte(clientID))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Resender sends one user's code, retrying throttles and faults with backoff. It is the
// only retry layer: the Cognito client must be built with aws.NopRetryer{}.
type Resender struct {
	API                 CognitoAPI
	ClientID            string
	ClientSecret        []byte // optional; never logged
	Metadata            map[string]string
	AnalyticsEndpointID string
	Limiter             *Limiter
	Breaker             *Breaker // optional
	MaxAttempts         int
	BackoffBase         time.Duration
	BackoffMax          time.Duration
	CallTimeout         time.Duration
	Logger              *slog.Logger
	Clock               Clock
	// OnAttempt, when set, observes every attempt (metrics).
	OnAttempt func(o Outcome, latency time.Duration)
}

// Resend runs one job to a result. stop ends limiter waits and backoff sleeps (soft
// stop: the job comes back with ClassCanceled); kill also aborts a call in flight.
func (r *Resender) Resend(stop, kill context.Context, job Job) Result {
	clock := r.Clock
	if clock == nil {
		clock = realClock{}
	}
	res := Result{Username: job.Username, SourceRef: job.SourceRef, StartedAt: clock.Now().UTC()}
	in := r.input(job)

	backoff := newBackoff(r.MaxAttempts, r.BackoffBase, r.BackoffMax)

	var (
		lastErr error
		lastOut = Outcome{Class: ClassCanceled, Status: StatusFailed, Code: "Canceled"}
		out     *cip.ResendConfirmationCodeOutput
	)
	err := retry.Do(stop, backoff, func(context.Context) error {
		if err := r.Limiter.Wait(stop); err != nil {
			return err // stopping: not retryable, no attempt made
		}
		res.Attempts++
		callCtx, cancel := context.WithTimeout(kill, r.CallTimeout)
		t0 := time.Now()
		o, err := r.API.ResendConfirmationCode(callCtx, in)
		latency := time.Since(t0)
		cancel()
		oc := Classify(err)
		if oc.Class == ClassRetryable && errors.Is(err, context.DeadlineExceeded) && kill.Err() != nil {
			oc = Outcome{Class: ClassCanceled, Status: StatusFailed, Code: "Canceled"}
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
			r.Breaker.Observe(oc)
		}
		if r.Logger != nil && err != nil {
			r.Logger.Debug("attempt failed", "username", job.Username, "attempt", res.Attempts,
				"error_code", oc.Code, "class", oc.Class.String())
		}
		if oc.Class == ClassRetryable {
			return retry.RetryableError(err)
		}
		return err
	})
	res.FinishedAt = clock.Now().UTC()
	res.Class = lastOut.Class

	switch {
	case err == nil && lastErr == nil:
		res.Status, res.Class = StatusSent, ClassNone
		if d := out.CodeDeliveryDetails; d != nil {
			res.DeliveryMedium = string(d.DeliveryMedium)
			res.Destination = aws.ToString(d.Destination)
			res.AttributeName = aws.ToString(d.AttributeName)
		}
		if id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); ok {
			res.RequestID = id
		}
		return res
	case lastOut.Class == ClassRetryable && stop.Err() != nil:
		// Stopped between retries: the user was not reached (throttle/fault); give it back.
		res.Class = ClassCanceled
	case lastErr == nil:
		// Stopped before the first attempt.
		res.Class = ClassCanceled
	}
	res.Status = lastOut.Status
	res.ErrorCode = lastOut.Code
	res.Fix = lastOut.Fix
	res.ErrorMessage = ErrorMessage(lastErr)
	res.RequestID = RequestID(lastErr)
	if lastOut.Class == ClassRetryable {
		res.ErrorMessage = fmt.Sprintf("gave up after %d attempts: %s", res.Attempts, res.ErrorMessage)
	}
	return res
}

// newBackoff is the retry schedule of every go-retry loop: attempts in all (at least
// one), exponential from base, capped at maxDelay, ±50 % jitter.
func newBackoff(attempts int, base, maxDelay time.Duration) retry.Backoff {
	return retry.WithMaxRetries(uint64(max(attempts, 1)-1),
		retry.WithJitterPercent(50,
			retry.WithCappedDuration(maxDelay, retry.NewExponential(base))))
}

func (r *Resender) input(job Job) *cip.ResendConfirmationCodeInput {
	in := &cip.ResendConfirmationCodeInput{
		ClientId: aws.String(r.ClientID),
		Username: aws.String(job.Username),
	}
	if len(r.ClientSecret) > 0 {
		in.SecretHash = aws.String(SecretHash(r.ClientSecret, job.Username, r.ClientID))
	}
	if len(r.Metadata) > 0 || len(job.ClientMetadata) > 0 {
		md := make(map[string]string, len(r.Metadata)+len(job.ClientMetadata))
		maps.Copy(md, r.Metadata)
		maps.Copy(md, job.ClientMetadata) // per-row values win
		in.ClientMetadata = md
	}
	if r.AnalyticsEndpointID != "" {
		in.AnalyticsMetadata = &types.AnalyticsMetadataType{AnalyticsEndpointId: aws.String(r.AnalyticsEndpointID)}
	}
	if job.UserContextData != "" {
		in.UserContextData = &types.UserContextDataType{EncodedData: aws.String(job.UserContextData)}
	}
	return in
}
