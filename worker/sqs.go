package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// SQSAPI is every SQS call the queue consumer makes (the deploy IAM policy is derived
// from these method names).
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	// SendMessage moves a poison message to the dead-letter queue.
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	// GetQueueAttributes finds the dead-letter queue (RedrivePolicy) at start.
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// maxVisibility is SQS's limit on a message's total invisibility since its receipt.
const maxVisibility = 12 * time.Hour

// sqsBatchMax is SQS's limit on entries per batch call and messages per receive.
const sqsBatchMax = 10

// SQSConfig configures an SQSSource.
type SQSConfig struct {
	API      SQSAPI
	QueueURL string
	// WaitTimeSeconds is the long-poll wait, 0..20.
	WaitTimeSeconds int32
	// VisibilityTimeout is what a received message gets; the heartbeat extends it while
	// the message is held (whole seconds; at least 1 s).
	VisibilityTimeout time.Duration
	// MaxInFlight bounds messages received and not yet settled at the queue.
	MaxInFlight int
	// ExitWhenEmpty: Next returns io.EOF after EmptyPolls consecutive empty receives
	// with nothing in flight.
	ExitWhenEmpty bool
	EmptyPolls    int
	// RetryDelay is the visibility after exhausted retries, doubled per receive.
	RetryDelay time.Duration
	// LimitExceededDelay is the visibility after a per-user limit_exceeded.
	LimitExceededDelay time.Duration
	// FlushInterval bounds how long a delete or visibility change waits for a full
	// batch (default 1 s).
	FlushInterval time.Duration
	// HeartbeatInterval is how often held messages are checked for extension (default
	// VisibilityTimeout/6); a message is extended once less than a third of
	// VisibilityTimeout remains.
	HeartbeatInterval time.Duration
	// EntryAttempts bounds attempts of a batch entry that fails transiently (default 4).
	EntryAttempts int
	// CallTimeout bounds each SQS call other than ReceiveMessage (default 20 s).
	CallTimeout time.Duration
	Logger      *slog.Logger
	Metrics     *Metrics
	Clock       Clock
	// HeartbeatTicks, when set, drives the heartbeat instead of a ticker every
	// HeartbeatInterval (tests: with Clock, time moves only when told to).
	HeartbeatTicks <-chan time.Time
}

// SQSSource is a Source that consumes an SQS queue. Three loops run beside the engine:
// receive (long polls, at most MaxInFlight messages held), heartbeat (extends the
// visibility of held messages before it expires, with its own SQS calls: it never waits
// behind a slow delete) and settler (batches deletes and visibility changes: ≤ 10 a call,
// flushed on size or within FlushInterval; failed entries are requeued with a backoff,
// never slept on). A job's Ack deletes its message or sets its visibility to a backoff;
// Release makes it visible again at once; poison messages are copied to the dead-letter
// queue first.
//
// Ordering: a message is marked settled (under mu) before its delete or visibility change
// is queued, and the heartbeat picks a message for extension only if it is not settled,
// marking it extending in the same critical section; the settler sends nothing for a
// message while an extension of it is in flight. So an extension never lands after the
// settling change of the same message (it would undo a release or a backoff).
type SQSSource struct {
	cfg    SQSConfig
	api    SQSAPI
	log    *slog.Logger
	clock  Clock
	dlqURL string
	fifo   bool

	slots chan struct{} // semaphore: one per held message
	ready chan *sqsMsg  // received, not yet handed out
	eof   chan struct{} // closed when drained (ExitWhenEmpty)
	ops   chan sqsOp    // to the settler
	// extIdle (capacity 1) wakes the settler when an extension call ends: entries held
	// back for it may go.
	extIdle chan struct{}

	mu   sync.Mutex
	held map[*sqsMsg]struct{}

	nextOnce sync.Once // the first Next ties receiving to its ctx

	recvCtx     context.Context
	recvCancel  context.CancelFunc
	hbCtx       context.Context
	hbCancel    context.CancelFunc
	settlerStop chan struct{}
	recvDone    chan struct{}
	hbDone      chan struct{}
	settlerDone chan struct{}
	closeOnce   sync.Once
	closeErr    error

	firstOK    atomic.Bool
	consecErrs atomic.Int32
	stopping   atomic.Bool
}

var _ Source = (*SQSSource)(nil)

type sqsMsg struct {
	id, receipt, body string
	groupID           string
	receiveCount      int
	receivedAt        time.Time
	parsed            MessageBody
	poisonReason      string

	// guarded by SQSSource.mu
	visibleUntil time.Time
	settled      bool // no extension starts once set
	extending    bool // an extension call including it is in flight
}

type opKind int

const (
	opDelete opKind = iota
	opVisibility
)

type sqsOp struct {
	kind     opKind
	msg      *sqsMsg
	timeout  int32  // seconds (opVisibility)
	action   string // metrics label and log
	attempts int
	// due: sent by then (FlushInterval after it was queued, unless a batch fills first);
	// notBefore: a retry waits out its backoff (wall clock, like the flush timer).
	due, notBefore time.Time
	flushed        chan struct{} // flush request: closed once everything queued is sent
}

// NewSQSSource checks the queue (GetQueueAttributes: it must exist and be readable),
// finds its dead-letter queue from the RedrivePolicy, and starts the loops. Close
// stops them.
func NewSQSSource(ctx context.Context, cfg SQSConfig) (*SQSSource, error) {
	if cfg.API == nil || cfg.QueueURL == "" {
		return nil, errors.New("sqs: API and QueueURL are required")
	}
	cfg.VisibilityTimeout = max(cfg.VisibilityTimeout, time.Second)
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 16
	}
	cfg.EmptyPolls = max(cfg.EmptyPolls, 1)
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 30 * time.Second
	}
	if cfg.LimitExceededDelay <= 0 {
		cfg.LimitExceededDelay = time.Hour
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = max(cfg.VisibilityTimeout/6, 100*time.Millisecond)
	}
	if cfg.EntryAttempts <= 0 {
		cfg.EntryAttempts = 4
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 20 * time.Second
	}
	s := &SQSSource{
		cfg: cfg, api: cfg.API, log: cfg.Logger, clock: cfg.Clock,
		fifo:        strings.HasSuffix(cfg.QueueURL, ".fifo"),
		slots:       make(chan struct{}, cfg.MaxInFlight),
		ready:       make(chan *sqsMsg, cfg.MaxInFlight),
		eof:         make(chan struct{}),
		ops:         make(chan sqsOp, cfg.MaxInFlight+1),
		extIdle:     make(chan struct{}, 1),
		held:        map[*sqsMsg]struct{}{},
		settlerStop: make(chan struct{}),
		recvDone:    make(chan struct{}),
		hbDone:      make(chan struct{}),
		settlerDone: make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if err := s.findDLQ(ctx); err != nil {
		return nil, err
	}
	s.recvCtx, s.recvCancel = context.WithCancel(context.WithoutCancel(ctx))
	s.hbCtx, s.hbCancel = context.WithCancel(context.WithoutCancel(ctx))
	cfg.Metrics.WatchInFlight(s.InFlight)
	go s.receiveLoop()
	go s.heartbeatLoop()
	go s.settler()
	return s, nil
}

// DLQURL is the dead-letter queue poison messages go to ("" when the queue has none).
func (s *SQSSource) DLQURL() string { return s.dlqURL }

// InFlight is the number of messages received and not yet settled at the queue.
func (s *SQSSource) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

// Ready is /readyz: nil once a receive succeeded, while receives are not failing
// repeatedly and the source is not stopping.
func (s *SQSSource) Ready() error {
	switch {
	case s.stopping.Load():
		return errors.New("stopping")
	case s.consecErrs.Load() >= 3:
		return fmt.Errorf("%d receives failed in a row", s.consecErrs.Load())
	case !s.firstOK.Load():
		return errors.New("no successful receive yet")
	}
	return nil
}

func (s *SQSSource) findDLQ(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	out, err := s.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(s.cfg.QueueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy},
	})
	s.cfg.Metrics.sqsCall("GetQueueAttributes", err)
	if err != nil {
		return fmt.Errorf("sqs queue %s: %w", s.cfg.QueueURL, err)
	}
	rp := out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]
	if rp == "" {
		s.log.Warn("queue has no RedrivePolicy: poison messages are recorded and deleted, and retryable failures come back until they succeed", "queue", s.cfg.QueueURL)
		return nil
	}
	var policy struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	if err := json.Unmarshal([]byte(rp), &policy); err != nil {
		return fmt.Errorf("sqs queue %s: RedrivePolicy: %w", s.cfg.QueueURL, err)
	}
	u, err := QueueURLFromARN(s.cfg.QueueURL, policy.DeadLetterTargetArn)
	if err != nil {
		return fmt.Errorf("sqs queue %s: RedrivePolicy: %w", s.cfg.QueueURL, err)
	}
	s.dlqURL = u
	return nil
}

// QueueURLFromARN builds the URL of the queue named by arn (arn:aws:sqs:REGION:ACCOUNT:NAME)
// on the same endpoint as queueURL (a DLQ is in the same account and region).
func QueueURLFromARN(queueURL, arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[4] == "" || parts[5] == "" {
		return "", fmt.Errorf("not an SQS queue ARN: %q", arn)
	}
	u, err := url.Parse(queueURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("bad queue URL %q", queueURL)
	}
	u.Path = "/" + parts[4] + "/" + parts[5]
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String(), nil
}

// Next hands out the next received message as a job; io.EOF once drained in
// ExitWhenEmpty mode. Receiving stops as soon as the ctx of the first call ends (the
// engine passes its dispatch context to every call), whether or not Next is called
// again: messages received after dispatch stopped would only be held until Close
// releases them, each with one more receive counted towards the dead-letter queue. A
// later call's ctx ending while it waits stops receiving too.
func (s *SQSSource) Next(ctx context.Context) (Job, error) {
	s.nextOnce.Do(func() { context.AfterFunc(ctx, s.stopReceiving) })
	select {
	case m := <-s.ready:
		return s.job(m), nil
	default:
	}
	select {
	case m := <-s.ready:
		return s.job(m), nil
	case <-s.eof:
		return Job{}, io.EOF
	case <-ctx.Done():
		s.stopReceiving()
		return Job{}, context.Cause(ctx)
	}
}

func (s *SQSSource) job(m *sqsMsg) Job {
	j := Job{SourceRef: m.id}
	if m.poisonReason != "" {
		j.Invalid = m.poisonReason
	} else {
		j.Username = m.parsed.Username
		j.ClientMetadata = m.parsed.ClientMetadata
		j.UserContextData = m.parsed.UserContextData
		j.Invalid = m.parsed.Invalid
	}
	j.Ack = func(ctx context.Context, r Result) error { return s.ack(ctx, m, r) }
	j.Release = func(ctx context.Context) error { return s.settle(ctx, m, opVisibility, 0, "release") }
	return j
}

// ack settles a message after its report row is durable.
func (s *SQSSource) ack(ctx context.Context, m *sqsMsg, r Result) error {
	switch {
	case m.poisonReason != "":
		if s.dlqURL != "" {
			if err := s.toDLQ(ctx, m); err != nil {
				// Not deleted: it comes back later and SQS's own redrive moves it.
				_ = s.settle(ctx, m, opVisibility, s.backoff(m, s.cfg.RetryDelay, true), "retry_later")
				return fmt.Errorf("move to DLQ: %w", err)
			}
		}
		return s.settle(ctx, m, opDelete, 0, "delete")
	case r.Status == StatusFailed && r.Class == ClassRetryable:
		return s.settle(ctx, m, opVisibility, s.backoff(m, s.cfg.RetryDelay, true), "retry_later")
	case r.Status == StatusLimitExceeded:
		return s.settle(ctx, m, opVisibility, s.backoff(m, s.cfg.LimitExceededDelay, false), "limit_later")
	}
	return s.settle(ctx, m, opDelete, 0, "delete")
}

// backoff is the visibility (seconds) for a message to come back after: base, doubled
// per earlier receive when grow is set, within SQS's 12 h since receipt.
func (s *SQSSource) backoff(m *sqsMsg, base time.Duration, grow bool) int32 {
	d := base
	if grow {
		for i := 1; i < m.receiveCount && d < maxVisibility; i++ {
			d *= 2
		}
	}
	left := maxVisibility - s.clock.Now().Sub(m.receivedAt) - time.Minute
	d = max(min(d, left, maxVisibility), 0)
	return int32((d + time.Second - 1) / time.Second)
}

// BackoffSeconds is the visibility, in seconds, an exhausted-retries job with this
// ApproximateReceiveCount gets (exported for documentation and tests).
func (s *SQSSource) BackoffSeconds(receiveCount int) int32 {
	return s.backoff(&sqsMsg{receiveCount: receiveCount, receivedAt: s.clock.Now()}, s.cfg.RetryDelay, true)
}

func (s *SQSSource) toDLQ(ctx context.Context, m *sqsMsg) error {
	in := &sqs.SendMessageInput{
		QueueUrl:    aws.String(s.dlqURL),
		MessageBody: aws.String(m.body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"cognito-resend-reason": {DataType: aws.String("String"), StringValue: aws.String(truncate(m.poisonReason, 1024))},
			"cognito-resend-source": {DataType: aws.String("String"), StringValue: aws.String(m.id)},
		},
	}
	if s.fifo {
		in.MessageGroupId = aws.String(nonEmpty(m.groupID, "poison"))
		in.MessageDeduplicationId = aws.String(m.id)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	_, err := s.api.SendMessage(ctx, in)
	s.cfg.Metrics.sqsCall("SendMessage", err)
	if err == nil {
		s.cfg.Metrics.dlqMove()
		s.log.Warn("poison message moved to the dead-letter queue", "message_id", m.id, "reason", m.poisonReason, "dlq", s.dlqURL)
	}
	return err
}

// settle marks m settled (the heartbeat stops extending it) and queues its delete or
// visibility change. It is a no-op for a message already settled.
func (s *SQSSource) settle(ctx context.Context, m *sqsMsg, kind opKind, timeout int32, action string) error {
	s.mu.Lock()
	if m.settled {
		s.mu.Unlock()
		return nil
	}
	m.settled = true
	s.mu.Unlock()
	return s.send(ctx, sqsOp{kind: kind, msg: m, timeout: timeout, action: action})
}

func (s *SQSSource) send(ctx context.Context, op sqsOp) error {
	select {
	case s.ops <- op:
		return nil
	case <-s.settlerDone:
	case <-ctx.Done():
	}
	// Not queued: the message reappears when its visibility runs out. Free its slot.
	if op.msg != nil {
		s.finish(op.msg)
	}
	return fmt.Errorf("sqs: %s of message %s not sent: source closing", op.action, msgID(op.msg))
}

func msgID(m *sqsMsg) string {
	if m == nil {
		return ""
	}
	return m.id
}

// finish forgets a settled message and frees its slot.
func (s *SQSSource) finish(m *sqsMsg) {
	s.mu.Lock()
	_, ok := s.held[m]
	delete(s.held, m)
	s.mu.Unlock()
	if ok {
		<-s.slots
	}
}

func (s *SQSSource) stopReceiving() {
	s.stopping.Store(true)
	s.recvCancel()
}

func (s *SQSSource) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// jitter returns d ± 50 %.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d+1)
}

func (s *SQSSource) receiveLoop() {
	defer close(s.recvDone)
	empty, fails := 0, 0
	for {
		select {
		case s.slots <- struct{}{}:
		case <-s.recvCtx.Done():
			return
		}
		n := 1
	more:
		for n < sqsBatchMax {
			select {
			case s.slots <- struct{}{}:
				n++
			default:
				break more
			}
		}
		out, err := s.api.ReceiveMessage(s.recvCtx, &sqs.ReceiveMessageInput{
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
		now := s.clock.Now()
		got := 0
		if err == nil {
			got = len(out.Messages)
		}
		for range n - got {
			<-s.slots
		}
		if err != nil {
			if s.recvCtx.Err() != nil {
				return
			}
			s.cfg.Metrics.sqsCall("ReceiveMessage", err)
			fails++
			s.consecErrs.Store(int32(fails))
			d := jitter(min(200*time.Millisecond<<min(fails, 10), 20*time.Second))
			s.log.Warn("receive failed", "error", err, "in_a_row", fails, "retry_in", d.Round(time.Millisecond))
			if !s.sleep(s.recvCtx, d) {
				return
			}
			continue
		}
		s.cfg.Metrics.sqsCall("ReceiveMessage", nil)
		fails = 0
		s.consecErrs.Store(0)
		s.firstOK.Store(true)
		if got == 0 {
			empty++
			if s.cfg.ExitWhenEmpty && empty >= s.cfg.EmptyPolls && s.InFlight() == 0 {
				s.log.Info("queue is empty, draining done", "empty_polls", empty)
				close(s.eof)
				return
			}
			if s.cfg.WaitTimeSeconds == 0 && !s.sleep(s.recvCtx, jitter(500*time.Millisecond)) {
				return // short polling: never a hot loop
			}
			continue
		}
		empty = 0
		s.cfg.Metrics.receivedN(got)
		for _, sm := range out.Messages {
			m := &sqsMsg{
				id:         aws.ToString(sm.MessageId),
				receipt:    aws.ToString(sm.ReceiptHandle),
				body:       aws.ToString(sm.Body),
				groupID:    sm.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)],
				receivedAt: now,
			}
			m.visibleUntil = now.Add(s.cfg.VisibilityTimeout)
			m.receiveCount, _ = strconv.Atoi(sm.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
			m.receiveCount = max(m.receiveCount, 1)
			if mb, err := ParseMessageBody(m.body); err != nil {
				m.poisonReason = err.Error()
			} else {
				m.parsed = mb
			}
			s.mu.Lock()
			s.held[m] = struct{}{}
			s.mu.Unlock()
			s.ready <- m // never blocks: ready's capacity is the number of slots
		}
	}
}

// heartbeatLoop extends held messages before their visibility runs out. It makes its own
// ChangeMessageVisibilityBatch calls, so a slow or failing delete never delays it.
func (s *SQSSource) heartbeatLoop() {
	defer close(s.hbDone)
	ticks := s.cfg.HeartbeatTicks
	if ticks == nil {
		t := time.NewTicker(s.cfg.HeartbeatInterval)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-s.hbCtx.Done():
			return
		case <-ticks:
		}
		s.extendDue()
	}
}

// extendDue pushes the visibility of every held, unsettled message with less than a
// third of VisibilityTimeout left VisibilityTimeout ahead, ≤ 10 a call. Each batch is
// chosen under mu right before its call (a message settled meanwhile is skipped) and
// its messages are marked extending until the call returns, which holds back their
// settling change in the settler. A message whose extension failed is retried on the
// next tick.
func (s *SQSSource) extendDue() {
	tried := map[*sqsMsg]bool{}
	for s.hbCtx.Err() == nil {
		now := s.clock.Now()
		var batch []*sqsMsg
		var secs []int32
		s.mu.Lock()
		for m := range s.held {
			if len(batch) == sqsBatchMax {
				break
			}
			if m.settled || tried[m] || m.visibleUntil.Sub(now) >= s.cfg.VisibilityTimeout/3 {
				continue
			}
			d := min(s.cfg.VisibilityTimeout, maxVisibility-now.Sub(m.receivedAt)-time.Second)
			if d < time.Second {
				continue // SQS allows no more: it comes back (and is redelivered) at 12 h
			}
			m.extending = true
			tried[m] = true
			batch = append(batch, m)
			secs = append(secs, int32(d/time.Second))
		}
		s.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		s.extendBatch(now, batch, secs)
	}
}

func (s *SQSSource) extendBatch(now time.Time, batch []*sqsMsg, secs []int32) {
	n := len(batch)
	entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, n)
	for i, m := range batch {
		entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
			ReceiptHandle: aws.String(m.receipt), VisibilityTimeout: secs[i]}
	}
	ctx, cancel := s.callCtx()
	out, err := s.api.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(s.cfg.QueueURL), Entries: entries})
	cancel()
	s.cfg.Metrics.sqsCall("ChangeMessageVisibilityBatch", err)
	s.mu.Lock()
	if err == nil {
		for _, e := range out.Successful {
			if i, ok := batchIndex(e.Id, n); ok {
				batch[i].visibleUntil = now.Add(time.Duration(secs[i]) * time.Second)
			}
		}
	}
	for _, m := range batch {
		m.extending = false
	}
	s.mu.Unlock()
	select { // the settler may send what it held back for these
	case s.extIdle <- struct{}{}:
	default:
	}
	if err != nil {
		s.log.Warn("visibility extension failed; retrying on the next heartbeat", "error", err, "entries", n)
		return
	}
	for _, f := range out.Failed {
		s.cfg.Metrics.sqsEntryError("ChangeMessageVisibilityBatch", aws.ToString(f.Code))
		s.log.Warn("visibility extension rejected", "code", aws.ToString(f.Code), "error", aws.ToString(f.Message))
	}
	s.cfg.Metrics.settled("extend", len(out.Successful))
}

// settler is the only goroutine that deletes messages or makes settling visibility
// changes. It never sleeps: a batch goes out when 10 entries are sendable or one is due,
// a failed entry is requeued with a not-before time, and the loop waits on new ops, a
// timer for the earliest due entry, or the end of an extension call.
func (s *SQSSource) settler() {
	defer close(s.settlerDone)
	var dels, vis []sqsOp
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// pump sends what is due (everything sendable when force) and returns when the
	// earliest entry left falls due (zero: none waits on time).
	pump := func(force bool) time.Time {
		dels = s.pump(dels, force, s.flushDeletes)
		vis = s.pump(vis, force, s.flushVisibility)
		return s.nextDue(dels, vis)
	}
	// flushAll sends everything queued, waiting out retry backoffs and extensions in
	// flight (both bounded: EntryAttempts, CallTimeout).
	flushAll := func() {
		for {
			next := pump(true)
			if len(dels)+len(vis) == 0 {
				return
			}
			var wake <-chan time.Time
			if !next.IsZero() {
				timer.Reset(max(time.Until(next), 0))
				wake = timer.C
			}
			select {
			case <-wake:
			case <-s.extIdle:
			}
			timer.Stop()
		}
	}
	add := func(op sqsOp) {
		op.due = time.Now().Add(s.cfg.FlushInterval)
		if op.kind == opDelete {
			dels = append(dels, op)
		} else {
			vis = append(vis, op)
		}
	}
	for {
		next := pump(false)
		timer.Stop()
		if !next.IsZero() {
			timer.Reset(max(time.Until(next), 0))
		}
		select {
		case op := <-s.ops:
			if op.flushed != nil {
				flushAll()
				close(op.flushed)
			} else {
				add(op)
			}
		case <-timer.C:
		case <-s.extIdle:
		case <-s.settlerStop:
			timer.Stop()
			var flushes []chan struct{}
			for {
				select {
				case op := <-s.ops:
					if op.flushed != nil {
						flushes = append(flushes, op.flushed)
					} else {
						add(op)
					}
					continue
				default:
				}
				break
			}
			flushAll()
			for _, c := range flushes {
				close(c)
			}
			return
		}
	}
}

// pump sends batches of q while one is ready and returns what is left.
func (s *SQSSource) pump(q []sqsOp, force bool, flush func([]sqsOp) []sqsOp) []sqsOp {
	for {
		batch, rest := s.nextBatch(q, time.Now(), force)
		if len(batch) == 0 {
			return q
		}
		q = append(rest, flush(batch)...)
	}
}

// nextBatch picks up to 10 sendable entries of q: past their retry backoff, and with no
// extension of their message in flight. Every queued entry's message is settled, so no
// extension of it starts later: once picked, nothing of the heartbeat can land after it.
// The batch goes out (non-empty) when full, when one of it is due, or when force.
func (s *SQSSource) nextBatch(q []sqsOp, now time.Time, force bool) (batch, rest []sqsOp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	send := force
	for _, op := range q {
		if len(batch) < sqsBatchMax && !now.Before(op.notBefore) && !op.msg.extending {
			batch = append(batch, op)
			send = send || !now.Before(op.due)
		} else {
			rest = append(rest, op)
		}
	}
	if len(batch) < sqsBatchMax && !send {
		return nil, q
	}
	return batch, rest
}

// nextDue is when the earliest queued entry falls due (zero when none waits on time:
// entries held back for an extension in flight are woken by extIdle).
func (s *SQSSource) nextDue(qs ...[]sqsOp) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, q := range qs {
		for _, op := range q {
			if op.msg.extending {
				continue
			}
			at := op.due
			if op.notBefore.After(at) {
				at = op.notBefore
			}
			if next.IsZero() || at.Before(next) {
				next = at
			}
		}
	}
	return next
}

// Flush sends every queued delete and visibility change now and waits for it (tests,
// shutdown). It returns ctx's error if ctx ends first.
func (s *SQSSource) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case s.ops <- sqsOp{flushed: done}:
	case <-s.settlerDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-s.settlerDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *SQSSource) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.cfg.CallTimeout)
}

// flushDeletes sends a batch (≤ 10) of deletes and returns the entries to retry.
func (s *SQSSource) flushDeletes(batch []sqsOp) []sqsOp {
	n := len(batch)
	entries := make([]sqstypes.DeleteMessageBatchRequestEntry, n)
	for i, op := range batch {
		entries[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(op.msg.receipt)}
	}
	ctx, cancel := s.callCtx()
	out, err := s.api.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.cfg.QueueURL), Entries: entries})
	cancel()
	s.cfg.Metrics.sqsCall("DeleteMessageBatch", err)
	if err != nil {
		return s.afterBatch("DeleteMessageBatch", batch, nil, nil, err)
	}
	ids := make([]*string, len(out.Successful))
	for i, e := range out.Successful {
		ids[i] = e.Id
	}
	return s.afterBatch("DeleteMessageBatch", batch, succeeded(n, ids), out.Failed, nil)
}

// flushVisibility sends a batch (≤ 10) of visibility changes and returns the entries to
// retry.
func (s *SQSSource) flushVisibility(batch []sqsOp) []sqsOp {
	n := len(batch)
	entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, n)
	for i, op := range batch {
		entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
			ReceiptHandle: aws.String(op.msg.receipt), VisibilityTimeout: op.timeout}
	}
	ctx, cancel := s.callCtx()
	out, err := s.api.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(s.cfg.QueueURL), Entries: entries})
	cancel()
	s.cfg.Metrics.sqsCall("ChangeMessageVisibilityBatch", err)
	if err != nil {
		return s.afterBatch("ChangeMessageVisibilityBatch", batch, nil, nil, err)
	}
	ids := make([]*string, len(out.Successful))
	for i, e := range out.Successful {
		ids[i] = e.Id
	}
	return s.afterBatch("ChangeMessageVisibilityBatch", batch, succeeded(n, ids), out.Failed, nil)
}

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

// afterBatch finishes the entries that succeeded or failed for good and returns those
// to retry: transient failures (whole call, or an entry that is not the sender's fault)
// up to EntryAttempts, each not before a backoff that grows per attempt (the settler
// requeues them; it never sleeps). An invalid receipt handle (the message was already
// deleted, or its visibility ran out and someone else received it) is logged and
// counted, not fatal.
func (s *SQSSource) afterBatch(op string, batch []sqsOp, ok []bool, failed []sqstypes.BatchResultErrorEntry, callErr error) []sqsOp {
	var retry []sqsOp
	again := func(o sqsOp, code, msg string) {
		o.attempts++
		if o.attempts < s.cfg.EntryAttempts {
			o.notBefore = time.Now().Add(jitter(100 * time.Millisecond << min(o.attempts, 5)))
			o.due = o.notBefore
			retry = append(retry, o)
			return
		}
		s.log.Error("giving up on "+op+" entry; the message reappears when its visibility runs out",
			"message_id", o.msg.id, "action", o.action, "code", code, "error", msg)
		s.finish(o.msg)
	}
	if callErr != nil {
		s.log.Warn(op+" failed", "error", callErr, "entries", len(batch))
		for _, o := range batch {
			again(o, sqsErrorCode(callErr), callErr.Error())
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
			s.finish(o.msg)
		case isFailed:
			code := aws.ToString(f.Code)
			s.cfg.Metrics.sqsEntryError(op, code)
			switch {
			case code == "ReceiptHandleIsInvalid" || code == "InvalidParameterValue" || code == "MessageNotInflight":
				s.log.Warn(op+": receipt handle no longer valid (already settled, or its visibility ran out)",
					"message_id", o.msg.id, "action", o.action, "code", code, "error", aws.ToString(f.Message))
				s.finish(o.msg)
			case f.SenderFault:
				s.log.Error(op+" entry rejected", "message_id", o.msg.id, "action", o.action, "code", code, "error", aws.ToString(f.Message))
				s.finish(o.msg)
			default:
				again(o, code, aws.ToString(f.Message))
			}
		default: // neither successful nor failed: treat as transient
			again(o, "Missing", "entry missing from the batch response")
		}
	}
	for a, n := range done {
		s.cfg.Metrics.settled(a, n)
	}
	return retry
}

// Close stops receiving and the heartbeat, makes every message received but not
// settled visible again (visibility 0), flushes queued deletes and visibility changes,
// and waits for the loops to end (or ctx).
func (s *SQSSource) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.stopReceiving()
		select {
		case <-s.recvDone:
		case <-ctx.Done():
		}
		s.hbCancel()
		select {
		case <-s.hbDone:
		case <-ctx.Done():
		}
		s.mu.Lock()
		var rel []*sqsMsg
		for m := range s.held {
			if !m.settled {
				m.settled = true
				rel = append(rel, m)
			}
		}
		s.mu.Unlock()
		if len(rel) > 0 {
			s.log.Info("releasing messages not started", "count", len(rel))
		}
		for _, m := range rel {
			if err := s.send(ctx, sqsOp{kind: opVisibility, msg: m, timeout: 0, action: "release"}); err != nil {
				s.closeErr = err
			}
		}
		close(s.settlerStop)
		select {
		case <-s.settlerDone:
		case <-ctx.Done():
			s.closeErr = fmt.Errorf("sqs: close: %w", ctx.Err())
		}
	})
	return s.closeErr
}

func sqsErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "Timeout"
	}
	if errors.Is(err, context.Canceled) {
		return "Canceled"
	}
	return "Error"
}
