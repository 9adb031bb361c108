package job

// Message is what a user is sent: the sign-up confirmation code (ResendConfirmationCode)
// or, for a user an administrator created, the invitation (AdminCreateUser with
// MessageAction=RESEND, --invitations). The user's state decides it, once
// (userpool.Judge); the job carries it from the verify stage to the call, the report
// row says which one went out.
type Message string

const (
	// MessageConfirmation is the zero value's meaning: a job nobody judged (a CSV or a
	// queue without --verify-users) is a confirmation code, as before invitations.
	MessageConfirmation Message = "confirmation"
	MessageInvitation   Message = "invitation"
)

// Messages lists the messages in report order, for summaries.
var Messages = []Message{MessageConfirmation, MessageInvitation}

// Or is m, or MessageConfirmation when m is unset.
func (m Message) Or() Message {
	if m == "" {
		return MessageConfirmation
	}
	return m
}

// Noun is m for the operator: "a code" or "an invitation" (an unset m is a code).
func (m Message) Noun() string {
	if m == MessageInvitation {
		return "an invitation"
	}
	return "a code"
}

// Known reports whether m is a message of ours (the report parser keeps "" for a row
// written before the column existed, or a row no message was decided for).
func (m Message) Known() bool { return m == MessageConfirmation || m == MessageInvitation }

// Op is the Cognito operation that sends m.
func (m Message) Op() string {
	if m == MessageInvitation {
		return "AdminCreateUser"
	}
	return "ResendConfirmationCode"
}
