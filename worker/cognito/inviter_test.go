package cognito_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// fakeInvites answers AdminCreateUser after the scripted errors.
type fakeInvites struct {
	mu   sync.Mutex
	errs []error
	ins  []*cip.AdminCreateUserInput
}

func (f *fakeInvites) AdminCreateUser(_ context.Context, in *cip.AdminCreateUserInput, _ ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ins = append(f.ins, in)
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	out := &cip.AdminCreateUserOutput{User: &types.UserType{Username: in.Username, UserStatus: types.UserStatusTypeForceChangePassword,
		Attributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("adam@example.com")}}}}
	awsmiddleware.SetRequestIDMetadata(&out.ResultMetadata, "req-inv")
	return out, nil
}

func newTestInviter(t *testing.T, api cognito.InviteAPI) (*cognito.Inviter, *pacing.Limiter) {
	clk := drivenClock(t)
	lim := pacing.NewLimiter(pacing.LimiterConfig{Rate: 1000, Burst: 10, Adaptive: true, Clock: clk})
	return &cognito.Inviter{API: api, PoolID: "us-east-1_pool", Limiter: lim, Retry: pacing.Policy{Attempts: 3, Base: testBackoffBase, Max: testBackoffMax}, Clock: clk}, lim
}

// The call is AdminCreateUser with MessageAction=RESEND for the pool and the user, with
// ClientMetadata as the resend's (per-row values win) and DesiredDeliveryMediums only
// when --invitation-delivery asks for one; the row says it was an invitation.
func TestInviterSendsResend(t *testing.T) {
	t.Parallel()
	api := &fakeInvites{}
	inv, _ := newTestInviter(t, api)
	inv.Metadata = map[string]string{"campaign": "spring", "lang": "en"}
	gates := 0
	res := inv.Send(context.Background(), context.Background(),
		job.Job{Username: "adam", SourceRef: "4", ClientMetadata: map[string]string{"lang": "de"}, Message: job.MessageInvitation},
		func(int) error { gates++; return nil })
	require.Equal(t, 1, gates, "the claim gate ran before the attempt")
	require.Len(t, api.ins, 1)
	in := api.ins[0]
	require.Equal(t, types.MessageActionTypeResend, in.MessageAction)
	require.Equal(t, "us-east-1_pool", aws.ToString(in.UserPoolId))
	require.Equal(t, "adam", aws.ToString(in.Username))
	require.Equal(t, map[string]string{"campaign": "spring", "lang": "de"}, in.ClientMetadata)
	require.Nil(t, in.DesiredDeliveryMediums, "unset: the pool's own invitation setting applies")
	require.Nil(t, in.TemporaryPassword, "RESEND: Cognito makes the new temporary password")
	require.Equal(t, job.StatusSent, res.Status)
	require.Equal(t, job.MessageInvitation, res.Message)
	require.Equal(t, "req-inv", res.RequestID)
	require.Equal(t, 1, res.Attempts)
	require.Empty(t, res.DeliveryMedium, "Cognito's answer does not say which medium the pool chose")

	api = &fakeInvites{}
	inv, _ = newTestInviter(t, api)
	inv.Mediums = []types.DeliveryMediumType{types.DeliveryMediumTypeEmail}
	res = inv.Send(context.Background(), context.Background(), job.Job{Username: "adam"}, nil)
	require.Equal(t, []types.DeliveryMediumType{types.DeliveryMediumTypeEmail}, api.ins[0].DesiredDeliveryMediums)
	require.Equal(t, "EMAIL", res.DeliveryMedium)
	require.Equal(t, "a***@e***", res.Destination, "masked as Cognito masks a confirmation's destination")
	require.Equal(t, "email", res.AttributeName)
}

// A throttle is retried under the invitation limiter, which it slows; a user no longer
// FORCE_CHANGE_PASSWORD is not_eligible, final, without a retry.
func TestInviterRetriesAndClassifies(t *testing.T) {
	t.Parallel()
	throttle := sdkWrap(&types.TooManyRequestsException{Message: aws.String("Rate exceeded")}, 400, "req-t")
	api := &fakeInvites{errs: []error{throttle}}
	inv, lim := newTestInviter(t, api)
	res := inv.Send(context.Background(), context.Background(), job.Job{Username: "adam"}, nil)
	require.Equal(t, job.StatusSent, res.Status)
	require.Equal(t, 2, res.Attempts)
	require.Equal(t, int64(1), lim.Throttles(), "the throttle steered the invitation limiter")

	state := sdkWrap(&types.UnsupportedUserStateException{Message: aws.String("User is not in FORCE_CHANGE_PASSWORD state")}, 400, "req-s")
	api = &fakeInvites{errs: []error{state}}
	inv, _ = newTestInviter(t, api)
	res = inv.Send(context.Background(), context.Background(), job.Job{Username: "adam"}, nil)
	require.Len(t, api.ins, 1)
	require.Equal(t, job.StatusNotEligible, res.Status)
	require.Equal(t, job.ClassPerUser, res.Class)
	require.Equal(t, "UnsupportedUserStateException", res.ErrorCode)
	require.Equal(t, "AdminCreateUser: User is not in FORCE_CHANGE_PASSWORD state", res.ErrorMessage)
	require.Equal(t, job.MessageInvitation, res.Message)
}

func TestClassifyInvite(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		err    error
		class  job.ErrorClass
		status job.Status
		fix    string
	}{
		{"ok", nil, job.ClassNone, job.StatusSent, ""},
		{"not found", sdkWrap(&types.UserNotFoundException{Message: aws.String("User does not exist.")}, 400, "r"),
			job.ClassPerUser, job.StatusUserNotFound, ""},
		{"state", sdkWrap(&types.UnsupportedUserStateException{Message: aws.String("x")}, 400, "r"),
			job.ClassPerUser, job.StatusNotEligible, ""},
		{"throttle", sdkWrap(&types.TooManyRequestsException{Message: aws.String("Rate exceeded")}, 400, "r"),
			job.ClassRetryable, job.StatusFailed, ""},
		{"per-user limit", sdkWrap(&types.LimitExceededException{Message: aws.String("Attempt limit exceeded")}, 400, "r"),
			job.ClassPerUser, job.StatusLimitExceeded, ""},
		{"daily email cap", sdkWrap(&types.LimitExceededException{Message: aws.String("Exceeded daily email limit for the operation or the account.")}, 400, "r"),
			job.ClassSpent, job.StatusFailed, "daily email quota"},
		{"5xx", sdkWrap(&types.InternalErrorException{Message: aws.String("boom")}, 500, "r"),
			job.ClassRetryable, job.StatusFailed, ""},
		{"access denied", sdkWrap(&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: cognito-idp:AdminCreateUser"}, 400, "r"),
			job.ClassSystemic, job.StatusFailed, "cognito-idp:AdminCreateUser on user pool us-east-1_pool"},
		{"no credentials", errors.New("operation error Cognito Identity Provider: AdminCreateUser, failed to retrieve credentials"),
			job.ClassSystemic, job.StatusFailed, "deploy/iam/policy-invitations.json"},
		{"pool", sdkWrap(&types.ResourceNotFoundException{Message: aws.String("User pool does not exist.")}, 400, "r"),
			job.ClassSystemic, job.StatusFailed, "user pool us-east-1_pool not found"},
		{"no email", sdkWrap(&types.InvalidParameterException{Message: aws.String("User has no email")}, 400, "r"),
			job.ClassPerUser, job.StatusFailed, ""},
		{"delivery", sdkWrap(&types.CodeDeliveryFailureException{Message: aws.String("x")}, 400, "r"),
			job.ClassPerUser, job.StatusFailed, ""},
	} {
		o := cognito.ClassifyInvite(tt.err, "us-east-1_pool")
		require.Equal(t, tt.class, o.Class, tt.name)
		require.Equal(t, tt.status, o.Status, tt.name)
		require.Contains(t, o.Fix, tt.fix, tt.name)
	}
}

// Unset, DesiredDeliveryMediums is SMS: a user without a phone number fails, and the row
// says what to pass.
func TestInviterNamesTheDeliveryFix(t *testing.T) {
	t.Parallel()
	noPhone := sdkWrap(&types.InvalidParameterException{Message: aws.String("User has no attribute matching desired delivery mediums")}, 400, "r")
	inv, _ := newTestInviter(t, &fakeInvites{errs: []error{noPhone}})
	res := inv.Send(context.Background(), context.Background(), job.Job{Username: "adam"}, nil)
	require.Equal(t, job.StatusFailed, res.Status)
	require.Equal(t, job.ClassPerUser, res.Class)
	require.Equal(t, "AdminCreateUser: User has no attribute matching desired delivery mediums (unset, DesiredDeliveryMediums is SMS: "+
		"for users without a phone number pass --invitation-delivery EMAIL)", res.ErrorMessage)

	inv, _ = newTestInviter(t, &fakeInvites{errs: []error{noPhone}})
	inv.Mediums = []types.DeliveryMediumType{types.DeliveryMediumTypeSms}
	res = inv.Send(context.Background(), context.Background(), job.Job{Username: "adam"}, nil)
	require.Equal(t, "AdminCreateUser: User has no attribute matching desired delivery mediums", res.ErrorMessage, "asked for SMS: no hint")
}
