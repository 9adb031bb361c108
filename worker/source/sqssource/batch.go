package sqssource

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
)

// The schedule of a failed batch entry (and of a call made once, dlq.go): 200 ms
// doubling, up to EntryAttempts.
const (
	entryBackoffBase = 200 * time.Millisecond
	entryBackoffMax  = 3200 * time.Millisecond
)

func (s *Source) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.cfg.CallTimeout)
}

// flushDeletes sends a batch (≤ 10) of deletes and returns the entries to retry.
func (s *Source) flushDeletes(batch []op) []op {
	entries := make([]sqstypes.DeleteMessageBatchRequestEntry, len(batch))
	for i, o := range batch {
		entries[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: EntryID(i), ReceiptHandle: aws.String(o.msg.receipt)}
	}
	ctx, cancel := s.callCtx()
	out, err := s.api.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.cfg.QueueURL), Entries: entries})
	cancel()
	if err != nil {
		return s.afterBatch("DeleteMessageBatch", batch, nil, nil, err)
	}
	ids := make([]*string, len(out.Successful))
	for i, e := range out.Successful {
		ids[i] = e.Id
	}
	return s.afterBatch("DeleteMessageBatch", batch, succeeded(len(batch), ids), out.Failed, nil)
}

// flushVisibility sends a batch (≤ 10) of visibility changes and returns the entries to
// retry.
func (s *Source) flushVisibility(batch []op) []op {
	entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, len(batch))
	for i, o := range batch {
		timeout := o.timeout
		if o.action == "release" {
			timeout = s.releaseVisibility() // as it is sent: a receive may have started since
		}
		entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: EntryID(i),
			ReceiptHandle: aws.String(o.msg.receipt), VisibilityTimeout: timeout}
	}
	ctx, cancel := s.callCtx()
	out, err := s.api.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(s.cfg.QueueURL), Entries: entries})
	cancel()
	if err != nil {
		return s.afterBatch("ChangeMessageVisibilityBatch", batch, nil, nil, err)
	}
	return s.afterBatch("ChangeMessageVisibilityBatch", batch, succeeded(len(batch), visibilityIDs(out.Successful)), out.Failed, nil)
}

// EntryID is the id of the i-th entry of a batch request (every SQS batch call of the
// project, the producer's SendMessageBatch included): its index.
func EntryID(i int) *string { return aws.String(strconv.Itoa(i)) }

// batchIndex reads the id of a batch entry ("0".."n-1": its index in the request).
func batchIndex(id *string, n int) (int, bool) {
	i, err := strconv.Atoi(aws.ToString(id))
	return i, err == nil && i >= 0 && i < n
}

// succeeded marks the batch entries a batch answer lists as successful.
func succeeded(n int, ids []*string) []bool {
	ok := make([]bool, n)
	for _, id := range ids {
		if i, valid := batchIndex(id, n); valid {
			ok[i] = true
		}
	}
	return ok
}

func visibilityIDs(es []sqstypes.ChangeMessageVisibilityBatchResultEntry) []*string {
	ids := make([]*string, len(es))
	for i, e := range es {
		ids[i] = e.Id
	}
	return ids
}

// staleReceipt reports whether a batch entry's error code says its receipt handle no
// longer names a message this worker holds: SQS's answer, not a failure to retry.
func staleReceipt(code string) bool {
	return code == "ReceiptHandleIsInvalid" || code == "InvalidParameterValue" || code == "MessageNotInflight"
}

// afterBatch finishes the entries that succeeded or failed for good and returns those
// to retry: the entries of a call, and failed entries, that awserr.Transient judges worth
// another attempt (a path that failed, AWS's fault, a throttle), up to EntryAttempts, each not before a
// backoff that grows per attempt (the settler requeues them; it never sleeps). An invalid receipt handle (the message was already
// deleted, or its visibility ran out and someone else received it) is logged and
// counted, not fatal.
func (s *Source) afterBatch(call string, batch []op, ok []bool, failed []sqstypes.BatchResultErrorEntry, callErr error) []op {
	s.cfg.Metrics.SQSCall(call, awserr.Label(callErr))
	var retry []op
	giveUp := func(o op, code, msg string) {
		after := "; the message reappears when its visibility runs out"
		if noSuchQueueCode(code) {
			after = "; the queue does not exist any more: the message went with it"
		}
		s.log.Error("giving up on "+call+" entry"+after,
			"message_id", o.msg.id, "action", o.action, "code", code, "error", msg)
		s.held.finish(o.msg)
	}
	again := func(o op, code, msg string) {
		o.attempts++
		if o.attempts >= s.cfg.EntryAttempts {
			giveUp(o, code, msg)
			return
		}
		o.notBefore = s.clock.Now().Add(s.retry.Delay(o.attempts))
		o.due = o.notBefore
		retry = append(retry, o)
	}
	if callErr != nil {
		s.log.Warn(call+" failed", "error", callErr, "entries", len(batch))
		for _, o := range batch {
			if awserr.Transient(callErr) {
				again(o, awserr.Label(callErr), callErr.Error())
			} else {
				giveUp(o, awserr.Label(callErr), callErr.Error()) // an answer: the same call gets the same
			}
		}
		return retry
	}
	fail := map[int]sqstypes.BatchResultErrorEntry{}
	for _, f := range failed {
		if i, valid := batchIndex(f.Id, len(batch)); valid {
			fail[i] = f
		}
	}
	done := map[string]int{} // settled entries by action
	for i, o := range batch {
		f, isFailed := fail[i]
		switch {
		case ok[i] && !isFailed:
			done[o.action]++
			s.held.finish(o.msg)
		case isFailed:
			code, msg := aws.ToString(f.Code), aws.ToString(f.Message)
			s.cfg.Metrics.SQSEntryError(call, code)
			switch {
			case staleReceipt(code):
				s.log.Warn(call+": receipt handle no longer valid (already settled, or its visibility ran out)",
					"message_id", o.msg.id, "action", o.action, "code", code, "error", msg)
				s.held.finish(o.msg)
			case awserr.Transient(awserr.Entry(code, msg, f.SenderFault)):
				again(o, code, msg)
			default:
				s.log.Error(call+" entry rejected", "message_id", o.msg.id, "action", o.action, "code", code, "error", msg)
				s.held.finish(o.msg)
			}
		default: // neither successful nor failed: treat as transient
			again(o, "Missing", "entry missing from the batch response")
		}
	}
	for a, n := range done {
		s.cfg.Metrics.Settled(a, n)
	}
	return retry
}
