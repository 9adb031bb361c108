package userpool

import (
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Eligibility is what a user's state means for the resend.
type Eligibility struct {
	// Send: the user is to be sent Message: UNCONFIRMED and enabled (a confirmation
	// code), or FORCE_CHANGE_PASSWORD and enabled with --invitations (an invitation).
	Send    bool
	Message job.Message
	// Otherwise the row: its status, error_code and the reason (what would help instead).
	Status job.Status
	Code   string
	Reason string
}

// CodeDisabled is the error_code of a `disabled` row.
const CodeDisabled = "UserDisabled"

// CodeUserNotFound is the error_code of a `user_not_found` row, whichever call found no
// user (AdminGetUser's exception, or a ListUsers lookup that listed none).
const CodeUserNotFound = "UserNotFoundException"

// ListedStates are the states Judge may send a message to without --invitations: what a
// listing of the pool (the pool source, the --verify-users census) asks ListUsers for,
// one filter each.
func ListedStates() []string { return Rule{}.ListedStates() }

// Rule is the eligibility rule of a campaign: which message each state gets.
type Rule struct {
	// Invitations (--invitations): a FORCE_CHANGE_PASSWORD user gets their invitation
	// resent; without it they are not_eligible, as before.
	Invitations bool
}

// ListedStates are the states r may send a message to, one ListUsers filter each:
// UNCONFIRMED, and with --invitations FORCE_CHANGE_PASSWORD.
func (r Rule) ListedStates() []string {
	if r.Invitations {
		return []string{string(types.UserStatusTypeUnconfirmed), string(types.UserStatusTypeForceChangePassword)}
	}
	return []string{string(types.UserStatusTypeUnconfirmed)}
}

// Judge is the eligibility rule without --invitations.
func Judge(st job.UserState) Eligibility { return Rule{}.Judge(st) }

// Judge is the eligibility rule, the one place a user's state picks their message. In
// order: a CONFIRMED user needs nothing (already_confirmed, even if disabled); a disabled
// user would get nothing (disabled); an UNCONFIRMED user gets a confirmation code; a
// FORCE_CHANGE_PASSWORD user gets an invitation with --invitations; every other state is
// not_eligible, with what would help instead. error_code is Cognito's UserStatus (or
// UserDisabled).
func (r Rule) Judge(st job.UserState) Eligibility {
	status := types.UserStatusType(st.Status)
	switch {
	case status == types.UserStatusTypeConfirmed:
		return Eligibility{Status: job.StatusAlreadyConfirmed, Code: st.Status,
			Reason: "UserStatus CONFIRMED: the user already confirmed sign-up; no code needed"}
	case !st.Enabled:
		return Eligibility{Status: job.StatusDisabled, Code: CodeDisabled,
			Reason: "the user is disabled (Enabled=false): no code would be delivered; re-enable it (AdminEnableUser) and run again"}
	case status == types.UserStatusTypeUnconfirmed:
		return Eligibility{Send: true, Message: job.MessageConfirmation}
	case status == types.UserStatusTypeForceChangePassword && r.Invitations:
		return Eligibility{Send: true, Message: job.MessageInvitation}
	}
	return Eligibility{Status: job.StatusNotEligible, Code: st.Status, Reason: notEligibleReason(status)}
}

func notEligibleReason(s types.UserStatusType) string {
	switch s {
	case types.UserStatusTypeForceChangePassword:
		return "admin-created user: needs AdminCreateUser with MessageAction=RESEND, not ResendConfirmationCode (run with --invitations)"
	case types.UserStatusTypeResetRequired:
		return "password reset required: the user needs a ForgotPassword code (or AdminResetUserPassword), not a sign-up code"
	case types.UserStatusTypeExternalProvider:
		return "federated user (signs in through an external identity provider): there is no sign-up to confirm"
	case types.UserStatusTypeArchived, types.UserStatusTypeCompromised:
		return "UserStatus " + string(s) + ": the account is not active; a sign-up code does not apply"
	case "":
		return "Cognito reported no UserStatus; not resending to a user in an unknown state"
	}
	return "UserStatus " + string(s) + ": not awaiting sign-up confirmation; ResendConfirmationCode does not apply"
}
