package sqssource

import (
	"context"
	"fmt"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
)

type opKind int

const (
	opDelete opKind = iota
	opVisibility
)

// op is one delete or settling visibility change queued for the settler, or (flushed
// set) a request to send everything queued.
type op struct {
	kind     opKind
	msg      *message
	timeout  int32  // seconds (opVisibility)
	action   string // metrics label and log
	attempts int
	// due: sent by then (FlushInterval after it was queued, unless a batch fills first);
	// notBefore: a retry waits out its backoff.
	due, notBefore time.Time
	flushed        chan struct{} // flush request: closed once everything queued is sent
}

// settle marks m settled (the heartbeat stops extending it) and queues its delete or
// visibility change. It is a no-op for a message already settled.
func (s *Source) settle(ctx context.Context, m *message, kind opKind, timeout int32, action string) error {
	if !s.held.settle(m) {
		return nil
	}
	return s.send(ctx, op{kind: kind, msg: m, timeout: timeout, action: action})
}

func (s *Source) send(ctx context.Context, o op) error {
	select {
	case s.ops <- o:
		return nil
	case <-s.settlerDone:
	case <-ctx.Done():
	}
	// Not queued: the message reappears when its visibility runs out (if its queue still
	// exists). Free its slot.
	id := ""
	if o.msg != nil {
		s.held.finish(o.msg)
		id = o.msg.id
	}
	return fmt.Errorf("sqs: %s of message %s not sent: source closing", o.action, id)
}

// wakeup is the settler's timer for the earliest entry due, created when first needed
// (a stopped clock timer is a waiter too, for a fake clock).
type wakeup struct {
	clock clock.Clock
	timer clock.Timer
}

// at arms the timer for t (zero: disarm) and returns its channel (nil when disarmed).
func (w *wakeup) at(t time.Time) <-chan time.Time {
	if t.IsZero() {
		w.stop()
		return nil
	}
	d := max(w.clock.Until(t), 0)
	if w.timer == nil {
		w.timer = w.clock.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	return w.timer.Chan()
}

func (w *wakeup) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// settler is the only goroutine that deletes messages or makes settling visibility
// changes. It never sleeps: a batch goes out when 10 entries are sendable or one is due,
// a failed entry is requeued with a not-before time, and the loop waits on new ops, a
// timer for the earliest due entry, or the end of an extension call.
func (s *Source) settler() {
	defer close(s.settlerDone)
	var dels, vis []op
	wake := &wakeup{clock: s.clock}
	defer wake.stop()
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
			select {
			case <-wake.at(next):
			case <-s.extIdle:
			}
		}
	}
	add := func(o op) {
		o.due = s.clock.Now().Add(s.cfg.FlushInterval)
		if o.kind == opDelete {
			dels = append(dels, o)
		} else {
			vis = append(vis, o)
		}
	}
	for {
		next := pump(false)
		select {
		case o := <-s.ops:
			if o.flushed != nil {
				flushAll()
				close(o.flushed)
			} else {
				add(o)
			}
		case <-wake.at(next):
		case <-s.extIdle:
		case <-s.settlerStop:
			wake.stop()
			var flushes []chan struct{}
			for {
				select {
				case o := <-s.ops:
					if o.flushed != nil {
						flushes = append(flushes, o.flushed)
					} else {
						add(o)
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
func (s *Source) pump(q []op, force bool, flush func([]op) []op) []op {
	for {
		batch, rest := s.nextBatch(q, s.clock.Now(), force)
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
func (s *Source) nextBatch(q []op, now time.Time, force bool) (batch, rest []op) {
	send := force
	for _, o := range q {
		if len(batch) < BatchMax && !now.Before(o.notBefore) && !s.held.isExtending(o.msg) {
			batch = append(batch, o)
			send = send || !now.Before(o.due)
		} else {
			rest = append(rest, o)
		}
	}
	if len(batch) < BatchMax && !send {
		return nil, q
	}
	return batch, rest
}

// nextDue is when the earliest queued entry falls due (zero when none waits on time:
// entries held back for an extension in flight are woken by extIdle).
func (s *Source) nextDue(qs ...[]op) time.Time {
	var next time.Time
	for _, q := range qs {
		for _, o := range q {
			if s.held.isExtending(o.msg) {
				continue
			}
			at := o.due
			if o.notBefore.After(at) {
				at = o.notBefore
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
func (s *Source) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case s.ops <- op{flushed: done}:
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
