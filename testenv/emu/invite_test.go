package emu_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
)

// The launcher's AdminCreateUser MessageAction=RESEND (cognito-local 5.3.0 answers it
// Unsupported): the user must exist and be FORCE_CHANGE_PASSWORD; the invitation goes
// through cognito-local's message delivery, on the medium asked for, else SMS.
func TestCognitoAdminCreateUserResend(t *testing.T) {
	t.Parallel()
	srv := emu.Cognito(t)
	ctx := t.Context()
	c := emu.NewCognitoClient(srv.Endpoint, noRetry)
	p, err := emu.NewPool(ctx, srv.Endpoint, emu.PoolOptions{})
	require.NoError(t, err)
	require.NoError(t, p.SignUp(ctx, "una", "una@example.com"))
	require.NoError(t, p.AdminCreate(ctx, "adm", "adm@example.com"))
	resend := func(user string, mediums ...types.DeliveryMediumType) (*cip.AdminCreateUserOutput, error) {
		return c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(p.ID), Username: aws.String(user),
			MessageAction: types.MessageActionTypeResend, DesiredDeliveryMediums: mediums,
			ClientMetadata: map[string]string{"campaign": "spring"}})
	}

	before, err := srv.Logs()
	require.NoError(t, err)
	out, err := resend("adm", types.DeliveryMediumTypeEmail)
	require.NoError(t, err)
	require.Equal(t, "adm", aws.ToString(out.User.Username))
	require.Equal(t, types.UserStatusTypeForceChangePassword, out.User.UserStatus, "still to change the new temporary password")
	after, err := srv.Logs()
	require.NoError(t, err)
	require.Greater(t, strings.Count(after, "adm@example.com"), strings.Count(before, "adm@example.com"),
		"the invitation went through cognito-local's message delivery")

	_, err = resend("nobody", types.DeliveryMediumTypeEmail)
	var unf *types.UserNotFoundException
	require.ErrorAs(t, err, &unf)
	_, err = resend("una", types.DeliveryMediumTypeEmail)
	var uss *types.UnsupportedUserStateException
	require.ErrorAs(t, err, &uss, "an UNCONFIRMED user has no invitation to resend")
	_, err = resend("adm") // SMS, Cognito's default: adm has no phone number
	var inv *types.InvalidParameterException
	require.ErrorAs(t, err, &inv)

	// Other MessageActions are still cognito-local's own.
	_, err = c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(p.ID), Username: aws.String("adm"),
		MessageAction: types.MessageActionTypeSuppress})
	var exists *types.UsernameExistsException
	require.ErrorAs(t, err, &exists)
}
