package cognito

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// InvitationQuotaCategory is AdminCreateUser's quota category: UserCreation, 50
// requests/s per account and region (adjustable), shared with the application's SignUp,
// ConfirmSignUp and AdminConfirmSignUp.
const InvitationQuotaCategory = "UserCreation"

// InvitationRateDefault is --invitation-rate: AdminCreateUser calls per second. The
// UserCreation quota (50/s per account) is what the live application signs its users up
// with (SignUp, ConfirmSignUp): a throttled sign-up is a lost customer, a slower
// invitation campaign is not, so the campaign takes a fifth of it.
const InvitationRateDefault = 10.0

// InvitationRateMax is the UserCreation quota's default: a higher --invitation-rate can
// only be throttled unless the account's quota was raised.
const InvitationRateMax = 50.0

// InviteAPI is the call that resends an invitation (IAM cognito-idp:AdminCreateUser).
type InviteAPI interface {
	AdminCreateUser(ctx context.Context, in *cip.AdminCreateUserInput, optFns ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error)
}

var _ InviteAPI = (*cip.Client)(nil)

// Inviter resends one admin-created user's invitation: AdminCreateUser with
// MessageAction=RESEND, through the same attempt loop as the resend (Call: limiter,
// breaker, retries, the claim gate), under its own limiter (the UserCreation quota) and
// with its own classifier (ClassifyInvite). Cognito issues a new temporary password: the
// one in the earlier invitation stops working.
type Inviter struct {
	API      InviteAPI
	PoolID   string
	Metadata map[string]string
	// Mediums is --invitation-delivery (EMAIL or SMS); empty leaves DesiredDeliveryMediums
	// unset: Cognito's own default applies, which the API reference gives as SMS.
	Mediums []types.DeliveryMediumType
	Limiter Limiter
	Breaker Breaker // optional
	// Retry and CallTimeout as the Resender's.
	Retry       pacing.Policy
	CallTimeout time.Duration
	Logger      *slog.Logger
	Clock       clock.Clock
	OnAttempt   func(o Outcome, latency time.Duration) // optional (metrics)
}

// Resend runs one invitation job to a result, as Resender.Resend does a confirmation.
func (v *Inviter) Send(stop, kill context.Context, j job.Job, gate func(n int) error) job.Result {
	clk := clock.Must(v.Clock, "cognito.Inviter")
	res := job.Result{Username: j.Username, SourceRef: j.SourceRef, StartedAt: clk.Now().UTC(),
		Message: job.MessageInvitation}
	in := &cip.AdminCreateUserInput{UserPoolId: aws.String(v.PoolID), Username: aws.String(j.Username),
		MessageAction: types.MessageActionTypeResend, DesiredDeliveryMediums: v.Mediums}
	if len(v.Metadata) > 0 || len(j.ClientMetadata) > 0 {
		md := make(map[string]string, len(v.Metadata)+len(j.ClientMetadata))
		maps.Copy(md, v.Metadata)
		maps.Copy(md, j.ClientMetadata) // per-row values win
		in.ClientMetadata = md
	}
	call := Call{Op: "AdminCreateUser", Limiter: v.Limiter, Breaker: v.Breaker,
		Policy:      v.Retry,
		CallTimeout: v.CallTimeout, Classify: v.classify, OnAttempt: v.OnAttempt, Logger: v.Logger, Clock: v.Clock,
		RetryUnsent: true, Gate: gate}
	var out *cip.AdminCreateUserOutput
	ran := call.Run(stop, kill, j.Username, func(ctx context.Context) (err error) {
		out, err = v.API.AdminCreateUser(ctx, in)
		return err
	})
	res.FinishedAt = clk.Now().UTC()
	res.Attempts, res.Ambiguous, res.Class = ran.Attempts, ran.Ambiguous, ran.Outcome.Class
	if ran.OK() {
		res.Status, res.Class = job.StatusSent, job.ClassNone
		if out != nil {
			res.DeliveryMedium = invitedBy(v.Mediums)
			res.Destination, res.AttributeName = destination(out.User, res.DeliveryMedium)
			if id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); ok {
				res.RequestID = id
			}
		}
		return res
	}
	if ran.Stopped || ran.Gated != nil {
		res.Class = job.ClassCanceled // not reached: give the job back
	}
	res.Status, res.ErrorCode, res.Fix = ran.Outcome.Status, ran.Outcome.Code, ran.Outcome.Fix
	if ran.Err != nil {
		res.ErrorMessage = "AdminCreateUser: " + ErrorMessage(ran.Err)
	}
	var invalid *types.InvalidParameterException
	if len(v.Mediums) == 0 && errors.As(ran.Err, &invalid) {
		// Unset DesiredDeliveryMediums is SMS (the API's default): an email-only user has
		// nothing to receive it on.
		res.ErrorMessage += " (unset, DesiredDeliveryMediums is SMS: for users without a phone number pass --invitation-delivery EMAIL)"
	}
	res.RequestID = RequestID(ran.Err)
	if ran.Outcome.Class == job.ClassRetryable {
		res.ErrorMessage = fmt.Sprintf("AdminCreateUser gave up after %d attempts: %s", res.Attempts, ErrorMessage(ran.Err))
	}
	return res
}

// invitedBy is the delivery medium to report: the one asked for, else none (Cognito's
// answer does not say which medium its default chose).
func invitedBy(mediums []types.DeliveryMediumType) string {
	if len(mediums) == 1 {
		return string(mediums[0])
	}
	return ""
}

// destination is the attribute the invitation went to, masked as Cognito masks a
// confirmation's (the first character, then ***), so the report holds no more personal
// data than a resend's row.
func destination(u *types.UserType, medium string) (dest, attr string) {
	if u == nil || medium == "" {
		return "", ""
	}
	attr = "email"
	if medium == string(types.DeliveryMediumTypeSms) {
		attr = "phone_number"
	}
	for _, a := range u.Attributes {
		if aws.ToString(a.Name) == attr && aws.ToString(a.Value) != "" {
			return mask(aws.ToString(a.Value)), attr
		}
	}
	return "", ""
}

func mask(v string) string {
	if i := strings.IndexByte(v, '@'); i > 0 && i < len(v)-1 {
		return v[:1] + "***@" + v[i+1:i+2] + "***"
	}
	if len(v) > 4 {
		return "+*******" + v[len(v)-4:]
	}
	return "***"
}

// classify sorts an AdminCreateUser RESEND answer (see ClassifyInvite), with the pool in
// the fixes.
func (v *Inviter) classify(err error) Outcome { return ClassifyInvite(err, v.PoolID) }

// ClassifyInvite maps an AdminCreateUser RESEND error (nil = success) to an outcome: the
// resend's classifier for what the two calls share (throttles, faults, delivery, triggers,
// the pool's messaging roles, the daily email cap), and its own reading of the rest.
// UnsupportedUserStateException: the user is no longer FORCE_CHANGE_PASSWORD (they
// signed in and changed the password since the pool was read): not_eligible, final.
// Missing permission or credentials, an unknown pool: systemic, with the fix.
func ClassifyInvite(err error, poolID string) Outcome {
	var (
		state    *types.UnsupportedUserStateException
		notFound *types.UserNotFoundException
		notAuth  *types.NotAuthorizedException
		resNF    *types.ResourceNotFoundException
		invalid  *types.InvalidParameterException
		pwd      *types.InvalidPasswordException
		exists   *types.UsernameExistsException
	)
	switch {
	case err == nil:
		return Outcome{Class: job.ClassNone, Status: job.StatusSent}
	case errors.As(err, &state):
		return Outcome{Class: job.ClassPerUser, Status: job.StatusNotEligible, Code: state.ErrorCode()}
	case errors.As(err, &notFound):
		return Outcome{Class: job.ClassPerUser, Status: job.StatusUserNotFound, Code: notFound.ErrorCode()}
	case IsCredentialsError(err), errors.As(err, &notAuth):
		return Outcome{Class: job.ClassSystemic, Status: job.StatusFailed, Code: cmp.Or(awserr.Code(err), "NoCredentials"),
			Fix: fmt.Sprintf("--invitations calls cognito-idp:AdminCreateUser on user pool %s: allow it for these AWS "+
				"credentials (deploy/iam/policy-invitations.json), or run without --invitations", poolID)}
	case errors.As(err, &resNF):
		return Outcome{Class: job.ClassSystemic, Status: job.StatusFailed, Code: resNF.ErrorCode(),
			Fix: fmt.Sprintf("user pool %s not found: check --user-pool-id and --region", poolID)}
	case errors.As(err, &exists):
		// RESEND never creates: an answer that it would have means the call was not a resend.
		return Outcome{Class: job.ClassSystemic, Status: job.StatusFailed, Code: exists.ErrorCode(),
			Fix: "Cognito took the call for a user creation, not an invitation resend; report this as a bug"}
	case errors.As(err, &pwd):
		return Outcome{Class: job.ClassPerUser, Status: job.StatusFailed, Code: pwd.ErrorCode()}
	case errors.As(err, &invalid):
		// The resend's reading ("already confirmed", auto-verification) is about sign-up
		// codes; here it is the pool's or the user's attributes (e.g. no email for EMAIL).
		return Outcome{Class: job.ClassPerUser, Status: job.StatusFailed, Code: invalid.ErrorCode()}
	}
	o := Classify(err)
	if o.Fix != "" && strings.Contains(o.Fix, "app client") {
		o.Fix = "" // the resend's app-client remedies do not apply to a signed admin call
	}
	return o
}
