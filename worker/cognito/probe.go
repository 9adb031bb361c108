package cognito

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// ProbeUsername is the username of a probe: empty, which Cognito refuses before it looks
// for a user (the API's Username has a minimum length of 1), so no code can be sent, no
// trigger runs and no user is touched, while any answer at all shows Cognito reachable.
const ProbeUsername = ""

// Probe asks Cognito for an answer until it gives one (nil) or stop ends (its cause):
// one ResendConfirmationCode call with ProbeUsername per step of policy's schedule,
// through the same Call as every resend (the limiter, which the breaker pauses through
// an outage, and the breaker, which sees every fault). A queue worker probes instead of
// holding messages while Cognito does not answer. Whatever the answer (a throttle, an
// InvalidParameterException, …) the endpoint is reachable: the jobs find out the rest.
// attempts counts the calls made.
func (r *Resender) Probe(stop context.Context, policy pacing.Policy) (attempts int, err error) {
	in := &cip.ResendConfirmationCodeInput{ClientId: aws.String(r.ClientID), Username: aws.String(ProbeUsername)}
	if len(r.ClientSecret) > 0 {
		in.SecretHash = aws.String(SecretHash(r.ClientSecret, ProbeUsername, r.ClientID))
	}
	policy.Attempts = 1
	call := Call{Op: "probe", Limiter: r.Limiter, Breaker: r.Breaker, Policy: policy, CallTimeout: r.CallTimeout,
		Logger: r.Logger, Clock: r.Clock, RetryUnsent: true,
		// A probe can't send a code: every fault is retried, on policy's schedule, for
		// as long as stop allows.
		Classify: func(err error) Outcome {
			o := Classify(err)
			if o.Fault {
				o.Unsent = true
			}
			return o
		}}
	ran := call.Run(stop, stop, "(probe)", func(ctx context.Context) error {
		_, err := r.API.ResendConfirmationCode(ctx, in)
		return err
	})
	if ran.Stopped || ran.Outcome.Fault || stop.Err() != nil {
		return ran.Attempts, errors.Join(context.Cause(stop), ran.Err)
	}
	return ran.Attempts, nil
}
