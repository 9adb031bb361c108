package cognito

import (
	"context"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Messages is the processor of a campaign that sends both messages (--invitations): each
// job goes to the call of the message its user's state chose (job.Job.Message, set by
// the verify stage): a confirmation code to the Resender, an invitation to the Inviter.
type Messages struct {
	Confirmation *Resender
	Invitation   *Inviter
}

// Resend sends j's message.
func (m Messages) Send(stop, kill context.Context, j job.Job, gate func(n int) error) job.Result {
	if j.Message == job.MessageInvitation {
		return m.Invitation.Send(stop, kill, j, gate)
	}
	return m.Confirmation.Send(stop, kill, j, gate)
}
