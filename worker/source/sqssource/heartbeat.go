package sqssource

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
)

// heartbeatLoop extends held messages before their visibility runs out, every
// HeartbeatInterval on the clock. It makes its own ChangeMessageVisibilityBatch calls,
// so a slow or failing delete never delays it.
func (s *Source) heartbeatLoop() {
	defer close(s.hbDone)
	t := s.clock.NewTicker(s.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-s.hbCtx.Done():
			return
		case <-t.Chan():
		}
		s.extendDue()
	}
}

// extendDue pushes the visibility of every held, unsettled message with less than a
// third of VisibilityTimeout left VisibilityTimeout ahead, ≤ 10 a call. Each batch is
// chosen right before its call (a message settled meanwhile is skipped) and its
// messages are marked extending until the call returns, which holds back their settling
// change in the settler. A message whose extension failed is retried on the next tick.
func (s *Source) extendDue() {
	tried := map[*message]bool{}
	for s.hbCtx.Err() == nil {
		now := s.clock.Now()
		batch, secs := s.held.dueForExtension(now, s.cfg.VisibilityTimeout, tried)
		if len(batch) == 0 {
			return
		}
		s.extendBatch(now, batch, secs)
	}
}

func (s *Source) extendBatch(now time.Time, batch []*message, secs []int32) {
	n := len(batch)
	entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, n)
	for i, m := range batch {
		entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: EntryID(i),
			ReceiptHandle: aws.String(m.receipt), VisibilityTimeout: secs[i]}
	}
	ctx, cancel := s.callCtx()
	out, err := s.api.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(s.cfg.QueueURL), Entries: entries})
	cancel()
	s.cfg.Metrics.SQSCall("ChangeMessageVisibilityBatch", awserr.Label(err))
	ok := make([]bool, n)
	if err == nil {
		ok = succeeded(n, visibilityIDs(out.Successful))
	}
	s.held.extended(batch, secs, ok, now)
	select { // the settler may send what it held back for these
	case s.extIdle <- struct{}{}:
	default:
	}
	if err != nil {
		s.log.Warn("visibility extension failed; retrying on the next heartbeat", "error", err, "entries", n)
		return
	}
	for _, f := range out.Failed {
		s.cfg.Metrics.SQSEntryError("ChangeMessageVisibilityBatch", aws.ToString(f.Code))
		s.log.Warn("visibility extension rejected", "code", aws.ToString(f.Code), "error", aws.ToString(f.Message))
	}
	s.cfg.Metrics.Settled("extend", len(out.Successful))
}
