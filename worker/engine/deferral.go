package engine

import (
	"context"
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// deferrals holds the jobs the engine keeps for later itself: a job whose user another
// owner holds (a Busy verdict) and whose source can't take it back (job.Job.Defer is
// nil: a CSV or a pool). After its wait it is dispatched again, past the admit rule (it
// keeps its one dedupe entry). It also counts the jobs in the workers, so that the
// reader ends the run only when nothing can be deferred any more.
type deferrals struct {
	clk  clock.Clock
	wake chan struct{} // capacity 1: something is ready, or the workers went idle

	mu      sync.Mutex
	active  int // jobs handed to a worker and not yet done with
	pending map[*deferred]struct{}
	ready   []job.Job
	closed  bool
}

type deferred struct {
	job   job.Job
	timer clock.Timer
}

func newDeferrals(clk clock.Clock) *deferrals {
	return &deferrals{clk: clk, wake: make(chan struct{}, 1), pending: map[*deferred]struct{}{}}
}

func (d *deferrals) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// handing counts a job about to be handed to a worker; the worker calls done when it is
// finished with it (or the reader, if the hand-off failed).
func (d *deferrals) handing() {
	d.mu.Lock()
	d.active++
	d.mu.Unlock()
}

func (d *deferrals) done() {
	d.mu.Lock()
	d.active--
	idle := d.active == 0
	d.mu.Unlock()
	if idle {
		d.signal()
	}
}

// add keeps j for after; false if the run is stopping (the caller gives j back).
func (d *deferrals) add(j job.Job, after time.Duration) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	df := &deferred{job: j}
	d.pending[df] = struct{}{}
	df.timer = d.clk.AfterFunc(after, func() {
		d.mu.Lock()
		_, ok := d.pending[df]
		if ok {
			delete(d.pending, df)
			d.ready = append(d.ready, df.job)
		}
		d.mu.Unlock()
		if ok {
			d.signal()
		}
	})
	return true
}

// take returns a job whose wait is over.
func (d *deferrals) take() (job.Job, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.ready) == 0 {
		return job.Job{}, false
	}
	j := d.ready[0]
	d.ready = d.ready[1:]
	return j, true
}

// wait blocks until a deferred job is ready (true), or until nothing can come any more:
// no job is deferred or in a worker (false), or ctx ends (false).
func (d *deferrals) wait(ctx context.Context) bool {
	for {
		d.mu.Lock()
		ready, idle := len(d.ready) > 0, len(d.pending) == 0 && d.active == 0
		d.mu.Unlock()
		switch {
		case ready:
			return true
		case idle:
			return false
		}
		select {
		case <-d.wake:
		case <-ctx.Done():
			return false
		}
	}
}

// close stops deferring and returns the jobs still kept: the run is over, they get no
// row and are given back.
func (d *deferrals) close() []job.Job {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	out := d.ready
	d.ready = nil
	for df := range d.pending {
		df.timer.Stop()
		out = append(out, df.job)
	}
	clear(d.pending)
	return out
}
