package sqssource

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// Pauses of the receive loop (pacing.Policy: one schedule for every retry).
var (
	// receiveBackoff follows failed receives: 400 ms doubling to 20 s, for ever.
	receiveBackoff = pacing.Policy{Base: 400 * time.Millisecond, Max: 20 * time.Second}
	// idlePause follows an empty short poll (WaitTimeSeconds 0): never a hot loop.
	idlePause = pacing.Policy{Base: 500 * time.Millisecond, Max: 500 * time.Millisecond}
)

func (s *Source) stopReceiving() {
	s.stopping.Store(true)
	s.recvCancel()
}

// receiveLoop long-polls while fewer than MaxInFlight messages are held, asking for as
// many as there are free slots (at most 10), and while the source is not paused.
func (s *Source) receiveLoop() {
	defer close(s.recvDone)
	empty, fails := 0, 0
	for {
		n, ok := s.held.reserve(s.recvCtx, BatchMax)
		if !ok {
			return
		}
		pollCtx, cancelPoll, ok := s.pollContext()
		if !ok {
			s.held.unreserve(n)
			return
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
			if s.recvCtx.Err() != nil {
				return
			}
			if pollCtx.Err() != nil && s.holding() {
				continue // Pause (or Idle) cancelled the long poll: nothing failed
			}
			s.cfg.Metrics.SQSCall("ReceiveMessage", awserr.Label(err))
			fails++
			s.consecErrs.Store(int32(fails))
			if s.queueGone(err, now) {
				return
			}
			d := receiveBackoff.Delay(fails)
			s.log.Warn("receive failed", "error", err, "in_a_row", fails, "retry_in", d.Round(time.Millisecond).String())
			if clock.Sleep(s.recvCtx, s.clock, d) != nil {
				return
			}
			continue
		}
		s.cfg.Metrics.SQSCall("ReceiveMessage", "")
		fails = 0
		s.consecErrs.Store(0)
		s.goneSince = time.Time{}
		if got == 0 {
			empty++
			if s.cfg.ExitWhenEmpty && empty >= s.cfg.EmptyPolls && s.InFlight() == 0 {
				s.log.Info("queue is empty, draining done", "empty_polls", empty)
				close(s.eof)
				return
			}
			if s.cfg.WaitTimeSeconds == 0 && clock.Sleep(s.recvCtx, s.clock, idlePause.Delay(1)) != nil {
				return
			}
			continue
		}
		empty = 0
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
	}
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
