package emu_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
)

// What cognito-local 5.3.0 answers to the reads --verify-users and the case rule make,
// pinned so that the process tests stand on known ground.
func TestCognitoUserPoolReads(t *testing.T) {
	t.Parallel()
	srv := emu.Cognito(t)
	ctx := t.Context()
	c := emu.NewCognitoClient(srv.Endpoint, noRetry)

	t.Run("AdminGetUser", func(t *testing.T) {
		t.Parallel()
		p, err := emu.NewPool(ctx, srv.Endpoint, emu.PoolOptions{})
		require.NoError(t, err)
		require.NoError(t, p.SignUp(ctx, "una", "una@example.com"))
		require.NoError(t, p.SignUp(ctx, "con", "con@example.com"))
		require.NoError(t, p.Confirm(ctx, "con"))
		require.NoError(t, p.SignUp(ctx, "dis", "dis@example.com"))
		require.NoError(t, p.Disable(ctx, "dis"))
		require.NoError(t, p.AdminCreate(ctx, "adm", "adm@example.com"))
		for user, want := range map[string]struct {
			status  types.UserStatusType
			enabled bool
		}{
			"una": {types.UserStatusTypeUnconfirmed, true},
			"con": {types.UserStatusTypeConfirmed, true},
			"dis": {types.UserStatusTypeUnconfirmed, false},
			"adm": {types.UserStatusTypeForceChangePassword, true},
		} {
			out, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(p.ID), Username: aws.String(user)})
			require.NoError(t, err, user)
			require.Equal(t, want.status, out.UserStatus, user)
			require.Equal(t, want.enabled, out.Enabled, user)
		}
		_, err = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(p.ID), Username: aws.String("nobody")})
		var unf *types.UserNotFoundException
		require.ErrorAs(t, err, &unf)
		_, err = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String("us-east-1_nope"), Username: aws.String("una")})
		var rnf *types.ResourceNotFoundException
		require.ErrorAs(t, err, &rnf)

		// ListUsers carries Enabled too (the pool source's check).
		l, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(p.ID)})
		require.NoError(t, err)
		enabled := map[string]bool{}
		for _, u := range l.Users {
			enabled[aws.ToString(u.Username)] = u.Enabled
		}
		require.Equal(t, map[string]bool{"una": true, "con": true, "dis": false, "adm": true}, enabled)
	})

	t.Run("DescribeUserPool UsernameConfiguration", func(t *testing.T) {
		t.Parallel()
		for _, cs := range []*bool{nil, aws.Bool(false), aws.Bool(true)} {
			p, err := emu.NewPool(ctx, srv.Endpoint, emu.PoolOptions{CaseSensitive: cs})
			require.NoError(t, err)
			out, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(p.ID)})
			require.NoError(t, err)
			if cs == nil {
				require.Nil(t, out.UserPool.UsernameConfiguration, "no setting given, none reported")
				continue
			}
			require.NotNil(t, out.UserPool.UsernameConfiguration)
			require.Equal(t, *cs, aws.ToBool(out.UserPool.UsernameConfiguration.CaseSensitive))
		}
		_, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String("us-east-1_nope")})
		var rnf *types.ResourceNotFoundException
		require.ErrorAs(t, err, &rnf)
	})

	t.Run("usernames compare exactly, whatever the pool setting", func(t *testing.T) {
		t.Parallel()
		p, err := emu.NewPool(ctx, srv.Endpoint, emu.PoolOptions{CaseSensitive: aws.Bool(false)})
		require.NoError(t, err)
		require.NoError(t, p.SignUp(ctx, "alice", "a1@example.com"))
		require.NoError(t, p.SignUp(ctx, "Alice", "a2@example.com"), "cognito-local keeps Alice and alice apart")
		_, err = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(p.ID), Username: aws.String("ALICE")})
		var unf *types.UserNotFoundException
		require.ErrorAs(t, err, &unf, "real Cognito would find alice; cognito-local does not")
	})

	t.Run("PreventUserExistenceErrors simulates a delivery", func(t *testing.T) {
		t.Parallel()
		p, err := emu.NewPool(ctx, srv.Endpoint, emu.PoolOptions{PreventUserExistenceErrors: true})
		require.NoError(t, err)
		require.NoError(t, p.SignUp(ctx, "real", "real@example.com"))
		require.NoError(t, p.SignUp(ctx, "off", "off@example.com"))
		require.NoError(t, p.Disable(ctx, "off"))
		for _, u := range []string{"ghost", "off"} {
			out, err := resend(ctx, c, p.ClientID, u, nil)
			require.NoError(t, err, "%s: a simulated success, not an error", u)
			require.Equal(t, types.DeliveryMediumTypeEmail, out.CodeDeliveryDetails.DeliveryMedium, u)
		}
		out, err := resend(ctx, c, p.ClientID, "real", nil)
		require.NoError(t, err)
		require.Equal(t, "r***@e***", aws.ToString(out.CodeDeliveryDetails.Destination))
		require.NotEmpty(t, lastCode(t, srv, "real"), "a real user still gets a real code")

		// Without the setting the same users are errors.
		legacy, err := emu.NewPool(ctx, srv.Endpoint, emu.PoolOptions{})
		require.NoError(t, err)
		_, err = resend(ctx, c, legacy.ClientID, "ghost", nil)
		var unf *types.UserNotFoundException
		require.ErrorAs(t, err, &unf)
	})
}

// ListUsers as the launcher serves it (cognito-local 5.3.0 neither pages nor unescapes a
// filter's value): pages of Limit (at most 60) following PaginationToken, the status
// filter, and the username filter with the quoting escaped, as --verify-users' census
// and lookups use them.
func TestCognitoListUsersPagesAndFilters(t *testing.T) {
	t.Parallel()
	srv := emu.Cognito(t)
	ctx := t.Context()
	c := emu.NewCognitoClient(srv.Endpoint, noRetry)
	p, err := emu.NewPool(ctx, srv.Endpoint, emu.PoolOptions{})
	require.NoError(t, err)
	names := []string{"u1", "u2", "u3", "u4", "u5", `q"uo\te`}
	for _, u := range names {
		require.NoError(t, p.SignUp(ctx, u, "x@example.com"))
	}
	require.NoError(t, p.Confirm(ctx, "u5"))
	require.NoError(t, p.Disable(ctx, "u4"))

	var got []string
	var token *string
	pages := 0
	for {
		out, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(p.ID), Limit: aws.Int32(2),
			Filter: aws.String(`cognito:user_status = "UNCONFIRMED"`), PaginationToken: token})
		require.NoError(t, err)
		pages++
		require.LessOrEqual(t, len(out.Users), 2)
		for _, u := range out.Users {
			got = append(got, aws.ToString(u.Username))
		}
		if out.PaginationToken == nil {
			break
		}
		token = out.PaginationToken
	}
	require.ElementsMatch(t, []string{"u1", "u2", "u3", "u4", `q"uo\te`}, got, "every UNCONFIRMED user once, u5 confirmed left out")
	require.Equal(t, 3, pages, "5 users in pages of 2")

	out, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(p.ID), Filter: aws.String(`username = "q\"uo\\te"`)})
	require.NoError(t, err)
	require.Len(t, out.Users, 1, "the escaped quote and backslash match the user's name")
	require.Equal(t, `q"uo\te`, aws.ToString(out.Users[0].Username))
	out, err = c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(p.ID), Filter: aws.String(`username = "u4"`)})
	require.NoError(t, err)
	require.Len(t, out.Users, 1)
	require.False(t, out.Users[0].Enabled)
	require.Equal(t, types.UserStatusTypeUnconfirmed, out.Users[0].UserStatus)
	out, err = c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(p.ID), Filter: aws.String(`username = "nobody"`)})
	require.NoError(t, err)
	require.Empty(t, out.Users)
	out, err = c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(p.ID), Filter: aws.String(`status = "Disabled"`)})
	require.NoError(t, err)
	require.Len(t, out.Users, 1)

	_, err = c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(p.ID), Limit: aws.Int32(61)})
	var ipe *types.InvalidParameterException
	require.ErrorAs(t, err, &ipe, "Limit above 60")

	// DescribeUserPool estimates the pool's users, every state (cognito-local 5.3.0: 0):
	// the "no census" path of a small CSV can be seen here.
	d, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(p.ID)})
	require.NoError(t, err)
	require.EqualValues(t, len(names), d.UserPool.EstimatedNumberOfUsers)
}
