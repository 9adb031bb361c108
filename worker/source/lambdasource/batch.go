package lambdasource

import (
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/source/sqssource"
)

// Reason says why a message is a batch item failure ("" for a success).
type Reason string

const (
	ReasonNone Reason = ""
	// ReasonPoison: a body that can't yield a call, failed so that the queue's redrive
	// policy moves it to the DLQ.
	ReasonPoison Reason = "poison"
	// ReasonHeld: another owner holds the user's claim; it comes back after the
	// visibility timeout.
	ReasonHeld Reason = "held"
	// ReasonLimit: Cognito's per-user hourly limit (limit_exceeded).
	ReasonLimit Reason = "limit_exceeded"
	// ReasonSpent: the daily budget (--daily-budget) or Cognito's daily email cap is
	// spent: it waits for the next window (Batch.Spent), not systemic — the event source
	// backing off would not bring the window sooner, the message's visibility does.
	ReasonSpent Reason = "budget_spent"
	// ReasonRetry: the retries were spent (throttling, faults): systemic.
	ReasonRetry Reason = "retries_spent"
	// ReasonReleased: taken and given back without a row (the deadline, a systemic stop):
	// systemic.
	ReasonReleased Reason = "released"
	// ReasonUntouched: never started (the deadline, a stop, an earlier FIFO failure).
	ReasonUntouched Reason = "not_started"
)

// systemic reports whether a failure says nothing of its message: when every message of a
// batch fails for such a reason, the whole batch is an error (the ESM backs off).
func (r Reason) systemic() bool {
	return r == ReasonRetry || r == ReasonReleased || r == ReasonUntouched
}

// Item is one message's outcome in the batch.
type Item struct {
	MessageID string
	Username  string // as parsed ("" for a body that is not a job)
	// Body is an excerpt of a body that yielded no username (bodyExcerpt), for its log
	// line: what the message held, not an empty username.
	Body         string
	ReceiveCount int
	Settled      bool
	Reason       Reason     // "" with Settled: a success
	Row          job.Result // the report row, when there is one (Ack)
	HasRow       bool
	// VisibleIn is the visibility timeout (seconds) put on a limit_exceeded failure: it
	// comes back then (0: after the queue's own visibility timeout).
	VisibleIn int32

	receiptHandle, eventSourceARN string
	next                          time.Time // ReasonSpent: when the next window opens
}

// Failed reports whether the message is a batch item failure.
func (it Item) Failed() bool { return !it.Settled || it.Reason != ReasonNone }

// Config is what a Batch needs besides its event.
type Config struct {
	// MaxReceiveCount is the queue's redrive policy maxReceiveCount (0: the queue has no
	// DLQ): see the poison rule in doc.go.
	MaxReceiveCount int
	// LimitExceededDelay is how long a limit_exceeded message stays invisible
	// (--limit-exceeded-delay, as in queue mode; 0 with Handler.SQS nil: the queue's
	// visibility timeout).
	LimitExceededDelay time.Duration
}

// Batch is a job.Source over one invocation's messages. Next hands them out in order and
// then io.EOF; each job's Ack, Release and Defer record the message's outcome.
type Batch struct {
	cfg     Config
	records []events.SQSMessage
	jobs    []job.Job
	fifo    bool

	mu      sync.Mutex
	items   []Item
	next    int
	changed chan struct{} // closed and replaced on every outcome (FIFO waits on it)
}

var _ job.Source = (*Batch)(nil)

// New reads an invocation's event: one job per message, its body parsed by the queue
// worker's parser (a body that is not a job is an invalid job, with the reason).
func New(ev events.SQSEvent, cfg Config) *Batch {
	b := &Batch{cfg: cfg, records: ev.Records, changed: make(chan struct{})}
	b.items = make([]Item, len(ev.Records))
	b.jobs = make([]job.Job, len(ev.Records))
	for i, m := range ev.Records {
		if strings.HasSuffix(m.EventSourceARN, ".fifo") {
			b.fifo = true
		}
		n, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
		b.items[i] = Item{MessageID: m.MessageId, ReceiveCount: max(n, 1), receiptHandle: m.ReceiptHandle, eventSourceARN: m.EventSourceARN}
		b.jobs[i] = b.jobOf(i, m)
		b.items[i].Username = b.jobs[i].Username
		if b.items[i].Username == "" {
			b.items[i].Body = bodyExcerpt(m.Body)
		}
	}
	return b
}

func (b *Batch) jobOf(i int, m events.SQSMessage) job.Job {
	j := job.Job{SourceRef: m.MessageId}
	if mb, err := sqssource.ParseMessageBody(m.Body); err != nil {
		j.Invalid = err.Error()
	} else {
		j.Username, j.ClientMetadata, j.UserContextData, j.Invalid = mb.Username, mb.ClientMetadata, mb.UserContextData, mb.Invalid
	}
	j.Ack = func(_ context.Context, r job.Result) error {
		b.settle(i, b.ackReason(i, r), &r)
		return nil
	}
	j.Release = func(context.Context) error {
		b.settle(i, ReasonReleased, nil)
		return nil
	}
	j.Defer = func(context.Context, time.Duration) error {
		b.settle(i, ReasonHeld, nil)
		return nil
	}
	return j
}

// Spent marks job j (of this batch) as waiting for the budget's next window: the engine
// calls it (Engine.OnSpent) before j's Defer, whose "held" it overrides.
func (b *Batch) Spent(j job.Job, next time.Time) {
	for i := range b.jobs {
		if b.jobs[i].SourceRef == j.SourceRef {
			b.mu.Lock()
			if !b.items[i].Settled {
				b.items[i].next = next
			}
			b.mu.Unlock()
			b.settle(i, ReasonSpent, nil)
			return
		}
	}
}

// ackReason is the queue outcome of a message whose row is durable.
func (b *Batch) ackReason(i int, r job.Result) Reason {
	switch {
	case sqssource.IsPoison(r):
		if b.cfg.MaxReceiveCount > 0 && b.items[i].ReceiveCount <= b.cfg.MaxReceiveCount {
			return ReasonPoison
		}
		return ReasonNone // no DLQ to reach: logged (its row) and deleted
	case !r.Redeliver():
		return ReasonNone
	case r.Status == job.StatusLimitExceeded:
		return ReasonLimit
	}
	return ReasonRetry
}

// settle records message i's outcome; the first one stands.
func (b *Batch) settle(i int, reason Reason, row *job.Result) {
	b.mu.Lock()
	defer b.mu.Unlock()
	it := &b.items[i]
	if it.Settled {
		return
	}
	it.Settled, it.Reason = true, reason
	if row != nil {
		it.Row, it.HasRow = *row, true
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// Next hands out the next message's job, io.EOF after the last. On a FIFO queue it waits
// until the message before has an outcome, and ends the batch (io.EOF) at the first
// failure: the later messages are failures, in their order.
func (b *Batch) Next(ctx context.Context) (job.Job, error) {
	for {
		b.mu.Lock()
		i := b.next
		switch {
		case i >= len(b.jobs):
			b.mu.Unlock()
			return job.Job{}, io.EOF
		case b.fifo && i > 0 && b.items[i-1].Settled && b.items[i-1].Failed():
			b.next = len(b.jobs)
			b.mu.Unlock()
			return job.Job{}, io.EOF
		case !b.fifo || i == 0 || b.items[i-1].Settled:
			b.next++
			b.mu.Unlock()
			return b.jobs[i], nil
		}
		wait := b.changed
		b.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return job.Job{}, context.Cause(ctx)
		}
	}
}

// Redelivers is true: a message not reported done comes back.
func (*Batch) Redelivers() bool { return true }

// FIFO reports whether the batch is of a FIFO queue.
func (b *Batch) FIFO() bool { return b.fifo }

// Items are the messages' outcomes so far, in the batch's order; a message without one is
// a failure (ReasonUntouched). On a FIFO queue every message after the first failure is
// a failure too, whatever it did.
func (b *Batch) Items() []Item {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Item, len(b.items))
	failed := false
	for i, it := range b.items {
		if !it.Settled {
			it.Reason = ReasonUntouched
		}
		if failed && !it.Failed() {
			it.Reason = ReasonUntouched
		}
		if b.fifo && it.Failed() {
			failed = true
		}
		out[i] = it
	}
	return out
}

// Response is the batch's answer: every failed message's id (ReportBatchItemFailures;
// an empty list: all succeeded).
func Response(items []Item) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, it := range items {
		if it.Failed() {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: it.MessageID})
		}
	}
	return resp
}

// AllSystemic reports whether every message failed, each for a systemic reason.
func AllSystemic(items []Item) bool {
	if len(items) == 0 {
		return false
	}
	for _, it := range items {
		r := it.Reason
		if !it.Settled {
			r = ReasonUntouched
		}
		if !it.Failed() || !r.systemic() {
			return false
		}
	}
	return true
}
