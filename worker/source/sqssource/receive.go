package sqssource

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// receiveBackoff follows failed receives: 400 ms doubling to 20 s, for ever (the
// worker's context ends it, or the queue found gone).
var receiveBackoff = pacing.Policy{Attempts: math.MaxInt, Base: 400 * time.Millisecond, Max: 20 * time.Second}

// idlePause follows an empty short poll (WaitTimeSeconds 0), so an empty queue is never
// polled in a hot loop. It paces answered polls; it is not a retry.
const idlePause = 500 * time.Millisecond

// errStopReceiving ends the receive loop: the source is stopping, or the queue is gone.
var errStopReceiving = errors.New("receiving stopped")

// polled is what one answered receive brought.
type polled int

const (
	gotMessages polled = iota
	gotNone
	pollCut // Pause cancelled the long poll: nothing failed, nothing came
)

func (s *Source) stopReceiving() {
	s.stopping.Store(true)
	s.recvCancel()
}

// receiveLoop long-polls while fewer than MaxInFlight messages are held, asking for as
// many as there are free slots (at most 10), and while the source is not paused. A
// failed receive is retried through pacing.Retry on receiveBackoff.
func (s *Source) receiveLoop() {
	defer close(s.recvDone)
	empty, fails := 0, 0
	for {
		var got polled
		err := pacing.RetryNotify(s.recvCtx, s.clock, receiveBackoff, func(context.Context) error {
			var err error
			got, err = s.receive()
			if err == nil || errors.Is(err, errStopReceiving) {
				return err
			}
			fails++
			s.consecErrs.Store(int32(fails))
			if s.queueGone(err, s.clock.Now()) {
				return errStopReceiving
			}
			return pacing.Retryable(err)
		}, func(err error, wait time.Duration) {
			s.log.Warn("receive failed", "error", err, "in_a_row", fails, "retry_in", wait.Round(time.Millisecond).String())
		})
		if err != nil {
			return // stopping, or the queue is gone
		}
		if got == pollCut {
			continue
		}
		fails = 0
		s.consecErrs.Store(0)
		s.goneSince = time.Time{}
		if got == gotMessages {
			empty = 0
			continue
		}
		empty++
		if s.cfg.ExitWhenEmpty && empty >= s.cfg.EmptyPolls && s.InFlight() == 0 {
			s.log.Info("queue is empty, draining done", "empty_polls", empty)
			close(s.eof)
			return
		}
		if s.cfg.WaitTimeSeconds == 0 && clock.Sleep(s.recvCtx, s.clock, idlePause) != nil {
			return
		}
	}
}

// receive is one ReceiveMessage for the free slots (waiting for one first): the messages
// it brought are held and handed out. Its error is the call's, or errStopReceiving.
func (s *Source) receive() (polled, error) {
	n, ok := s.held.reserve(s.recvCtx, BatchMax)
	if !ok {
		return 0, errStopReceiving
	}
	pollCtx, cancelPoll, ok := s.pollContext()
	if !ok {
		s.held.unreserve(n)
		return 0, errStopReceiving
	}
	out, err := s.api.ReceiveMessage(pollCtx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(s.cfg.QueueURL),
		MaxNumberOfMessages: int32(n),
		WaitTimeSeconds:     s.cfg.WaitTimeSeconds,
		VisibilityTimeout:   int32(s.cfg.VisibilityTimeout / time.Second),
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{
			sqstypes.MessageSystemAttributeNameApproximateReceiveCount,
			sqstypes.MessageSystemAttributeNameSentTimestamp,
			sqstypes.MessageSystemAttributeNameMessageGroupId,
		},
	})
	cancelPoll()
	now := s.clock.Now()
	got := 0
	if err == nil {
		got = len(out.Messages)
		s.pollAnswered()
	}
	s.held.unreserve(n - got)
	if err != nil {
		switch {
		case s.recvCtx.Err() != nil:
			return 0, errStopReceiving
		case pollCtx.Err() != nil && s.holding():
			return pollCut, nil // Pause (or Idle) cancelled the long poll: nothing failed
		}
		s.cfg.Metrics.SQSCall("ReceiveMessage", awserr.Label(err))
		return 0, err
	}
	s.cfg.Metrics.SQSCall("ReceiveMessage", "")
	if got == 0 {
		return gotNone, nil
	}
	s.cfg.Metrics.Received(got)
	paused := s.holding()
	for _, sm := range out.Messages {
		m := s.newMessage(sm, now)
		s.held.hold(m)
		if paused {
			// Answered as Pause came: give them back at once rather than hold them.
			_ = s.release(m)
			continue
		}
		s.ready <- m // never blocks: ready's capacity is the number of slots
	}
	return gotMessages, nil
}

// newMessage reads a received message; a body that is not a job is poison: its job is
// invalid, with the reason.
func (s *Source) newMessage(sm sqstypes.Message, now time.Time) *message {
	m := &message{
		id:           aws.ToString(sm.MessageId),
		receipt:      aws.ToString(sm.ReceiptHandle),
		body:         aws.ToString(sm.Body),
		groupID:      sm.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)],
		receivedAt:   now,
		visibleUntil: now.Add(s.cfg.VisibilityTimeout),
	}
	m.receiveCount, _ = strconv.Atoi(sm.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
	m.receiveCount = max(m.receiveCount, 1)
	if mb, err := ParseMessageBody(m.body); err != nil {
		m.parsed = MessageBody{Invalid: err.Error()}
	} else {
		m.parsed = mb
	}
	return m
}
