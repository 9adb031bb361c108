package campaign

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// Readiness reasons of a queue worker that is not receiving (its /readyz body).
const (
	reasonFirstAnswer = "waiting for Cognito's first answer"
	reasonUnreachable = "Cognito unreachable"
)

// errOutage is why a job is given back when an outage begins.
var errOutage = errors.New("job given back: Cognito does not answer")

// pauser is the queue source's side of the gate (*sqssource.Source).
type pauser interface {
	Pause(reason string)
	Resume()
}

// outageGate keeps a queue worker from holding messages while Cognito does not answer
// (docs/queue-mode.md "Outages"). Every receive counts towards the queue's
// maxReceiveCount, so a worker that received through an outage, or restarted into one,
// would move valid users to the dead-letter queue without calling Cognito once. So: the
// worker receives nothing until Cognito has answered a probe; when the breaker trips,
// receiving stops, the messages not started are released by the source and the jobs in
// hand give theirs back (their stop context ends: no row, visibility 0), each message
// having cost the one receive it already had; one probe per backoff step then waits for
// an answer, and receiving goes on. The breaker's --max-outage no longer ends the
// worker: it says so again (loud) and /readyz stays 503 until Cognito answers.
type outageGate struct {
	src pauser
	// probe returns once Cognito answered (nil) or stop ended.
	probe func(stop context.Context) (int, error)
	stop  context.Context
	log   *slog.Logger

	mu      sync.Mutex
	jobs    context.Context // ends when an outage begins; renewed when it is over
	cancel  context.CancelCauseFunc
	probing bool
}

func newOutageGate(stop context.Context, src pauser, probe func(context.Context) (int, error), log *slog.Logger) *outageGate {
	g := &outageGate{src: src, probe: probe, stop: stop, log: log}
	g.jobs, g.cancel = context.WithCancelCause(context.Background())
	return g
}

// hold stops receiving and gives back the jobs in hand, then probes until Cognito
// answers; while it probes, hold only updates the reason /readyz gives.
func (g *outageGate) hold(reason string) {
	g.mu.Lock()
	defer g.mu.Unlock() // the source's pauses and resumes in the gate's order
	first := !g.probing
	g.probing = true
	g.cancel(errOutage)
	switch {
	case !first:
	case reason == reasonFirstAnswer:
		g.log.Info("not receiving until Cognito answers a probe", "reason", reason)
	default:
		g.log.Warn("not receiving until Cognito answers a probe: the messages in hand go back to the queue",
			"reason", reason)
	}
	g.src.Pause(reason)
	if first {
		go g.await()
	}
}

// await probes, then receives again (or returns when the worker stops).
func (g *outageGate) await() {
	calls, err := g.probe(g.stop)
	if err != nil {
		return // stopping
	}
	g.mu.Lock()
	g.jobs, g.cancel = context.WithCancelCause(context.Background())
	g.probing = false
	g.src.Resume()
	g.mu.Unlock()
	g.log.Info("Cognito answers: receiving", "probe_calls", calls)
}

// jobStop is a job's stop: stop, ended too when an outage begins.
func (g *outageGate) jobStop(stop context.Context) (context.Context, context.CancelFunc) {
	g.mu.Lock()
	jobs := g.jobs
	g.mu.Unlock()
	ctx, cancel := context.WithCancelCause(stop)
	undo := context.AfterFunc(jobs, func() { cancel(context.Cause(jobs)) })
	return ctx, func() { undo(); cancel(nil) }
}

// gatedProcessor is the resender of a queue worker: its jobs are given back when an
// outage begins.
type gatedProcessor struct {
	engine.Processor
	gate *outageGate
}

func (p gatedProcessor) Send(stop, kill context.Context, j job.Job, claim func(n int) error) job.Result {
	ctx, cancel := p.gate.jobStop(stop)
	defer cancel()
	return p.Processor.Send(ctx, kill, j, claim)
}

// gatedVerifier is the --verify-users check of a queue worker, given back the same way.
type gatedVerifier struct {
	engine.Verifier
	gate *outageGate
}

func (v gatedVerifier) Verify(stop, kill context.Context, j job.Job) (job.Result, bool) {
	ctx, cancel := v.gate.jobStop(stop)
	defer cancel()
	return v.Verifier.Verify(ctx, kill, j)
}

// guardQueue puts a queue worker behind an outageGate (r probes Cognito): it returns the processor (p) and
// verifier the engine runs, makes the breakers hold the gate when they trip and outlast
// --max-outage (a host name that does not exist still ends the run, through abort), and
// starts the first probe: the source was opened paused (openSQS). Other sources get
// their processor and verifier back unchanged.
func (c *Campaign) guardQueue(run context.Context, s *source, r *cognito.Resender, p engine.Processor,
	abort context.CancelCauseFunc, breakers ...*pacing.Breaker) (engine.Processor, engine.Verifier) {
	var verifier engine.Verifier = c.verifier
	if s.pauser == nil {
		return p, verifier
	}
	g := newOutageGate(run, s.pauser, func(stop context.Context) (int, error) {
		return r.Probe(stop, pacing.Policy{Base: pacing.BreakerBaseDefault, Max: pacing.BreakerMaxDefault})
	}, c.log)
	for _, b := range breakers {
		onTrip := b.OnTrip
		b.Outlast = true
		b.OnTrip = func(d time.Duration) {
			if onTrip != nil {
				onTrip(d)
			}
			_, last := b.Fault()
			g.hold(reasonUnreachable + " (" + last.Endpoint + ": " + last.Cause + ")")
		}
		b.OnOutage = func(e *pacing.OutageError) {
			switch {
			case e.NoSuchHost:
				abort(e) // a setting, not an outage: nothing was received before the first answer
				return
			case run.Err() != nil:
				return // the run is over: nothing to say
			}
			c.log.Error("Cognito unreachable for longer than --max-outage: holding no messages, not ready, "+
				"probing; receiving again once it answers", "endpoint", e.Endpoint, "error", e.Cause,
				"failing_for", e.For.Round(time.Second).String(), "max_outage", c.cfg.MaxOutage.String())
			g.hold(reasonUnreachable + ": " + e.Error())
		}
	}
	if c.checksUsers() {
		verifier = gatedVerifier{Verifier: c.verifier, gate: g}
	}
	g.hold(reasonFirstAnswer)
	return gatedProcessor{Processor: p, gate: g}, verifier
}
