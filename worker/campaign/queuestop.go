package campaign

import (
	"errors"

	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/source/sqssource"
)

// QueueStopNote is what a queue worker that stopped before its end (Stopped) left at
// its queue, for the summary — true for each way it stops (docs/queue-mode.md).
func (o *Outcome) QueueStopNote() string {
	var sys *engine.SystemicError
	switch {
	case errors.Is(o.Stopped, sqssource.ErrQueueGone):
		// Nothing is received again: the messages without a row went with the queue.
		return "the queue was deleted: the messages it still had went with it and are not received again; " +
			"the report has the row of every message settled before"
	case errors.As(o.Stopped, &sys):
		// The messages are visible again, but every restart receives them once more:
		// past the queue's maxReceiveCount they move to the dead-letter queue uncalled.
		return "messages without a row were not attempted and are visible again; each restart receives them " +
			"once more, and past the queue's maxReceiveCount they move to the dead-letter queue: " +
			"keep the workers stopped (scale to 0) until the cause below is fixed"
	}
	return "messages without a row were not attempted and are received again"
}
