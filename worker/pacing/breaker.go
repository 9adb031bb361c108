package pacing

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Defaults of the fault breaker.
const (
	BreakerThresholdDefault = 5                // consecutive faults that trip it
	BreakerBaseDefault      = time.Second      // first pause
	BreakerMaxDefault       = 30 * time.Second // longest pause (the delay doubles per trip)
	// MaxOutageDefault is --max-outage: how long the endpoint may fail every call (no
	// answer but faults) before the campaign stops.
	MaxOutageDefault = 2 * time.Minute
)

// Observation is one attempt's outcome as the breaker sees it.
type Observation struct {
	Class job.ErrorClass
	// Fault: a server or network fault (5xx, timeout, connection).
	Fault bool
	// NoSuchHost: the endpoint's host name does not exist (DNS NXDOMAIN).
	NoSuchHost bool
	// Endpoint is the host the call went to, and Cause the transport's own error text
	// (dial tcp 127.0.0.1:1: connect: connection refused), for the operator.
	Endpoint, Cause string
}

// answered reports whether the endpoint answered: anything but a fault, or the run's own
// cancellation, proves it is reachable (a throttle too).
func (o Observation) answered() bool { return !o.Fault && o.Class != job.ClassCanceled }

// OutageError is why the breaker gave up on the endpoint: for MaxOutage no call got an
// answer, or its host name does not exist before it ever answered.
type OutageError struct {
	Endpoint, Cause string
	For             time.Duration // since the first fault of the outage
	// NoSuchHost: the host name does not exist (and never answered in this run): a
	// setting (region, endpoint), not an outage; the breaker did not wait MaxOutage.
	NoSuchHost bool
}

func (e *OutageError) Error() string {
	if e.NoSuchHost {
		host := e.Endpoint
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return fmt.Sprintf("host name %s does not exist (%s)", cmp.Or(host, "of the endpoint"), e.Cause)
	}
	return fmt.Sprintf("no answer from %s for %s (%s)", cmp.Or(e.Endpoint, "the endpoint"),
		e.For.Round(time.Second), e.Cause)
}

// Breaker backs off the whole pool when Cognito keeps failing with 5xx, timeouts or
// connection errors, instead of letting every job burn its retries against an outage.
// After Threshold consecutive faults it pauses the limiter for a delay that doubles on
// each further trip (up to Max); one success closes it again. Faults that arrive during
// a pause are of calls made before it and don't count toward the next trip. Each trip is
// logged at warn with the endpoint and the error.
//
// It also decides when an outage is over for this campaign: MaxOutage after the first
// fault with no answer since (a throttle or a per-user error is an answer), or at the
// first trip if every fault said the host name does not exist and the endpoint has not
// answered once in this run (a wrong region or endpoint: waiting can't help). Then it
// calls OnOutage, once. Zero fields get the BreakerXxxDefault values; MaxOutage zero or
// less never gives up.
// Open and OnTrip are how it is watched (the metrics), so this package needs no metrics
// library.
type Breaker struct {
	Limiter   *Limiter
	Threshold int
	Base, Max time.Duration
	MaxOutage time.Duration
	// Endpoint names the endpoint when an observation doesn't (a call that timed out).
	Endpoint string
	Logger   *slog.Logger // nil: discard
	Clock    clock.Clock  // nil: the system clock
	// OnTrip, when set, is told each time the breaker pauses the pool.
	OnTrip func(pause time.Duration)
	// OnOutage, when set, is called once when the breaker gives up (outside its lock).
	OnOutage func(*OutageError)
	// Outlast (queue mode): MaxOutage does not end the watch. OnOutage is called each
	// MaxOutage the outage goes on (a host name that does not exist still gives up at
	// once), the breaker keeps pausing the pool, and an answer closes it as usual.
	Outlast bool

	mu          sync.Mutex
	consecutive int
	nxdomain    int // consecutive faults that were NoSuchHost
	delay       time.Duration
	pauseEnd    time.Time   // faults before it are of calls made before the pause
	answered    bool        // the endpoint answered at least once in this run
	since       time.Time   // first fault of the current outage; zero: none
	last        Observation // last fault
	timer       clock.Timer // fires MaxOutage after since
	gaveUp      bool
}

// Observe feeds one attempt's outcome to the breaker.
func (b *Breaker) Observe(o Observation) {
	clk := clock.Must(b.Clock, "pacing.Breaker")
	if o.Endpoint == "" {
		o.Endpoint = b.Endpoint
	}
	b.mu.Lock()
	if !o.Fault {
		if o.answered() {
			b.answered = true
			b.endOutage(clk)
		}
		if o.Class != job.ClassRetryable && o.Class != job.ClassCanceled { // a throttle says nothing about health
			b.consecutive, b.nxdomain, b.delay = 0, 0, 0
		}
		b.mu.Unlock()
		return
	}
	b.last = o
	if b.gaveUp || clk.Now().Before(b.pauseEnd) {
		// Given up; or a call that started before the pause, which says nothing new: the
		// next trip needs Threshold faults of calls made after it.
		b.mu.Unlock()
		return
	}
	if b.since.IsZero() {
		b.since = clk.Now()
		if b.MaxOutage > 0 {
			b.timer = clk.AfterFunc(b.MaxOutage, b.expire)
		}
	}
	b.consecutive++
	if o.NoSuchHost {
		b.nxdomain++
	} else {
		b.nxdomain = 0
	}
	threshold := positiveOr(b.Threshold, BreakerThresholdDefault)
	if b.consecutive < threshold {
		b.mu.Unlock()
		return
	}
	if !b.answered && b.nxdomain >= threshold {
		// The host name does not exist and never did in this run: a setting, not an outage.
		e := b.giveUp(clk)
		e.NoSuchHost = true
		b.mu.Unlock()
		b.outage(e)
		return
	}
	b.consecutive = 0
	first := b.delay == 0
	if first {
		b.delay = positiveOr(b.Base, BreakerBaseDefault)
	} else {
		b.delay = min(b.delay*2, positiveOr(b.Max, BreakerMaxDefault))
	}
	d, outageFor := b.delay, clk.Since(b.since)
	b.pauseEnd = clk.Now().Add(d)
	b.mu.Unlock()
	b.Limiter.PauseFor(d)
	msg := "Cognito calls failing: pausing every call (breaker open)"
	if !first {
		msg = "Cognito calls still failing: pausing every call again (breaker still open)"
	}
	attrs := []any{"endpoint", o.Endpoint, "error", o.Cause, "pause", d.String(),
		"failing_for", outageFor.Round(time.Millisecond).String()}
	if b.MaxOutage > 0 && !b.Outlast {
		attrs = append(attrs, "stop_in", max(b.MaxOutage-outageFor, 0).Round(time.Second).String())
	}
	b.logger().Warn(msg, attrs...)
	if b.OnTrip != nil {
		b.OnTrip(d)
	}
}

// Open reports whether the breaker has tripped and no answer since has closed it: the
// pool is paused, or probing Cognito again after a pause.
func (b *Breaker) Open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.delay > 0
}

// endOutage closes the current outage (mu held).
func (b *Breaker) endOutage(clk clock.Clock) {
	if b.since.IsZero() {
		return
	}
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if b.delay > 0 {
		b.logger().Info("Cognito answering again (breaker closed)", "endpoint", b.last.Endpoint,
			"failed_for", clk.Since(b.since).Round(time.Millisecond).String())
	}
	b.since = time.Time{}
}

// expire is the MaxOutage timer: the outage it was set for is still going on.
func (b *Breaker) expire() {
	clk := clock.Must(b.Clock, "pacing.Breaker")
	b.mu.Lock()
	if b.since.IsZero() || b.gaveUp || clk.Since(b.since) < b.MaxOutage {
		b.mu.Unlock()
		return
	}
	if b.Outlast {
		// Again after another MaxOutage, until an answer ends the outage (OnOutage says so).
		e := &OutageError{Endpoint: b.last.Endpoint, Cause: b.last.Cause, For: clk.Since(b.since)}
		b.timer = clk.AfterFunc(b.MaxOutage, b.expire)
		b.mu.Unlock()
		if b.OnOutage != nil {
			b.OnOutage(e)
		}
		return
	}
	e := b.giveUp(clk)
	b.mu.Unlock()
	b.outage(e)
}

// Fault is the current outage: since its first fault and the last fault seen (zero
// since: Cognito is answering).
func (b *Breaker) Fault() (since time.Time, last Observation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.since, b.last
}

// giveUp marks the breaker done and describes the outage (mu held).
func (b *Breaker) giveUp(clk clock.Clock) *OutageError {
	b.gaveUp = true
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	return &OutageError{Endpoint: b.last.Endpoint, Cause: b.last.Cause, For: clk.Since(b.since)}
}

func (b *Breaker) outage(e *OutageError) {
	b.logger().Error("giving up on Cognito: stopping the campaign", "endpoint", e.Endpoint, "error", e.Cause,
		"failing_for", e.For.Round(time.Millisecond).String(), "no_such_host", e.NoSuchHost)
	if b.OnOutage != nil {
		b.OnOutage(e)
	}
}

func (b *Breaker) logger() *slog.Logger {
	if b.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return b.Logger
}

// positiveOr is a setting with its default: v, or def when v is zero or less (unlike
// cmp.Or, a negative v gets the default too).
func positiveOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
