package sqssource

import (
	"errors"
	"fmt"
	"time"

	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
)

// QueueGoneAfterDefault is how long every receive must have answered that the queue
// does not exist before the source gives up on it: a deleted queue is permanent, but
// one answer is not trusted to end a worker (a queue just recreated under the same name
// can answer so for a moment).
const QueueGoneAfterDefault = 10 * time.Second

// ErrQueueGone is the error Next returns once the queue has been deleted: the worker
// can make no more progress.
var ErrQueueGone = errors.New("the queue does not exist any more (deleted?)")

// isNoSuchQueue reports whether err says the queue does not exist.
func isNoSuchQueue(err error) bool {
	var missing *sqstypes.QueueDoesNotExist
	if errors.As(err, &missing) {
		return true
	}
	return noSuchQueueCode(awserr.Label(err))
}

// noSuchQueueCode reports whether an error code (of a call or a batch entry) says the
// queue does not exist.
func noSuchQueueCode(code string) bool {
	return code == "QueueDoesNotExist" || code == "AWS.SimpleQueueService.NonExistentQueue"
}

// queueGone follows a failed receive: true once the queue has answered that it does not
// exist for QueueGoneAfter (then Next returns the error and Live fails).
func (s *Source) queueGone(err error, now time.Time) bool {
	if !isNoSuchQueue(err) {
		s.goneSince = time.Time{}
		return false
	}
	if s.goneSince.IsZero() {
		s.goneSince = now
	}
	if now.Sub(s.goneSince) < s.cfg.QueueGoneAfter {
		return false
	}
	s.goneErr.Store(fmt.Errorf("sqs queue %s: %w: every receive for %s answered %s", s.cfg.QueueURL, ErrQueueGone,
		now.Sub(s.goneSince).Round(time.Second), awserr.Label(err)))
	s.log.Error("the queue does not exist any more: stopping this worker", "queue", s.cfg.QueueURL,
		"error", err, "failing_for", now.Sub(s.goneSince).Round(time.Second).String())
	close(s.gone)
	return true
}

// Live is /healthz: nil while this source can make progress; an error once its queue
// is gone.
func (s *Source) Live() error {
	if err := s.goneErr.Load(); err != nil {
		return err.(error)
	}
	return nil
}
