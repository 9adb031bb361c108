package sqssource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// Source is a job.Source that consumes an SQS queue. Three loops run beside the engine:
// receive (long polls, at most MaxInFlight messages held: receive.go), heartbeat
// (extends the visibility of held messages before it expires, with its own SQS calls:
// it never waits behind a slow delete: heartbeat.go) and settler (batches deletes and
// visibility changes: ≤ 10 a call, flushed on size or within FlushInterval; failed
// entries are requeued with a backoff, never slept on: settle.go, batch.go). A job's Ack
// deletes its message or sets its visibility to a backoff (action.go); Release makes it
// visible again at once; poison messages are copied to the dead-letter queue first
// (dlq.go). The inflight tracker (inflight.go) holds the state the loops share.
type Source struct {
	cfg    Config
	api    SQSAPI
	log    *slog.Logger
	clock  clock.Clock
	dlqURL string
	fifo   bool
	// retry is the schedule of SQS calls made once and of failed batch entries.
	retry pacing.Policy

	held  *inflight
	ready chan *message // received, not yet handed out
	eof   chan struct{} // closed when drained (ExitWhenEmpty)
	ops   chan op       // to the settler
	// extIdle (capacity 1) wakes the settler when an extension call ends: entries held
	// back for it may go.
	extIdle chan struct{}

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

	consecErrs atomic.Int32
	stopping   atomic.Bool

	// Pause and Resume (pause.go): resumed is open while paused.
	pauseMu     sync.Mutex
	pauseReason string
	// idleReason is set while the source idles (Idle: the daily budget spent): it does
	// not receive, yet is ready.
	idleReason string
	resumed    chan struct{}
	cancelPoll context.CancelFunc
	// pollEnd is when SQS ends the latest receive at the latest (its start +
	// WaitTimeSeconds): a receive cancelled here may still be waiting there (release.go).
	pollEnd time.Time

	// The queue deleted (gone.go): goneSince is the receive loop's; gone closes once it
	// gives up, goneErr (an error) says why.
	goneSince time.Time
	gone      chan struct{}
	goneErr   atomic.Value
}

var _ job.Source = (*Source)(nil)

// New checks the queue (GetQueueAttributes: it must exist and be readable), finds its
// dead-letter queue from the RedrivePolicy, and starts the loops. Close stops them.
func New(ctx context.Context, cfg Config) (*Source, error) {
	if cfg.API == nil || cfg.QueueURL == "" {
		return nil, errors.New("sqs: API and QueueURL are required")
	}
	cfg.defaults()
	s := &Source{
		cfg: cfg, api: cfg.API, log: cfg.Logger, clock: cfg.Clock,
		fifo:        strings.HasSuffix(cfg.QueueURL, ".fifo"),
		retry:       pacing.Policy{Attempts: cfg.EntryAttempts, Base: entryBackoffBase, Max: entryBackoffMax},
		held:        newInflight(cfg.MaxInFlight),
		ready:       make(chan *message, cfg.MaxInFlight),
		eof:         make(chan struct{}),
		gone:        make(chan struct{}),
		ops:         make(chan op, cfg.MaxInFlight+1),
		extIdle:     make(chan struct{}, 1),
		settlerStop: make(chan struct{}),
		recvDone:    make(chan struct{}),
		hbDone:      make(chan struct{}),
		settlerDone: make(chan struct{}),
	}
	if err := s.findDLQ(ctx); err != nil {
		return nil, err
	}
	s.recvCtx, s.recvCancel = context.WithCancel(context.WithoutCancel(ctx))
	s.hbCtx, s.hbCancel = context.WithCancel(context.WithoutCancel(ctx))
	if cfg.PausedAtStart != "" {
		s.Pause(cfg.PausedAtStart) // before the receive loop starts: nothing is received
	}
	if cfg.IdleAtStart != "" {
		s.Idle(cfg.IdleAtStart, time.Time{})
	}
	cfg.Metrics.WatchInFlight(s.InFlight)
	go s.receiveLoop()
	go s.heartbeatLoop()
	go s.settler()
	return s, nil
}

// Redelivers is true: a message not deleted comes back.
func (*Source) Redelivers() bool { return true }

// DLQURL is the dead-letter queue poison messages go to ("" when the queue has none).
func (s *Source) DLQURL() string { return s.dlqURL }

// InFlight is the number of messages received and not yet settled at the queue.
func (s *Source) InFlight() int { return s.held.len() }

// MaxInFlight is the bound on InFlight.
func (s *Source) MaxInFlight() int { return s.cfg.MaxInFlight }

// Ready is /readyz: nil while receives are not failing repeatedly, the source is not
// paused and not stopping. The queue answered at start (GetQueueAttributes): a worker is
// ready without waiting for its first long poll to return (up to 20 s on an empty queue).
func (s *Source) Ready() error {
	if err := s.Live(); err != nil {
		return err
	}
	reason := s.paused()
	switch {
	case s.stopping.Load():
		return errors.New("stopping")
	case reason != "":
		return errors.New("not receiving: " + reason)
	case s.consecErrs.Load() >= 3:
		return fmt.Errorf("%d receives failed in a row", s.consecErrs.Load())
	}
	return nil
}

// Next hands out the next received message as a job; io.EOF once drained in
// ExitWhenEmpty mode. Receiving stops as soon as the ctx of the first call ends (the
// engine passes its dispatch context to every call), whether or not Next is called
// again: messages received after dispatch stopped would only be held until Close
// releases them, each with one more receive counted towards the dead-letter queue. A
// later call's ctx ending while it waits stops receiving too.
func (s *Source) Next(ctx context.Context) (job.Job, error) {
	s.nextOnce.Do(func() { context.AfterFunc(ctx, s.stopReceiving) })
	select {
	case m := <-s.ready:
		return s.jobOf(m), nil
	default:
	}
	select {
	case m := <-s.ready:
		return s.jobOf(m), nil
	case <-s.eof:
		return job.Job{}, io.EOF
	case <-s.gone:
		return job.Job{}, s.Live()
	case <-ctx.Done():
		s.stopReceiving()
		return job.Job{}, context.Cause(ctx)
	}
}

func (s *Source) jobOf(m *message) job.Job {
	j := job.Job{SourceRef: m.id, Username: m.parsed.Username, ClientMetadata: m.parsed.ClientMetadata,
		UserContextData: m.parsed.UserContextData, Invalid: m.parsed.Invalid}
	j.Ack = func(ctx context.Context, r job.Result) error { return s.ack(ctx, m, r) }
	j.Release = func(ctx context.Context) error { return s.settle(ctx, m, opVisibility, 0, "release") }
	// Another owner holds the user's claim: visible again once its lease ends.
	j.Defer = func(ctx context.Context, d time.Duration) error {
		return s.settle(ctx, m, opVisibility, s.visibility(m, d), "defer")
	}
	return j
}
