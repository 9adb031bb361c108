package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// Defaults of the engine's settings (zero fields).
const (
	// WorkersDefault is --workers: calls in flight at once.
	WorkersDefault = 8
	// BatchSizeDefault caps the rows of one group commit.
	BatchSizeDefault = 256
	// SettleTimeoutDefault bounds each ack or release made after a stop.
	SettleTimeoutDefault = 10 * time.Second
	// ShutdownTimeoutDefault is --shutdown-timeout: how long calls in flight may take
	// after a soft stop before the hard stop aborts them (under Kubernetes' default
	// 30 s grace period).
	ShutdownTimeoutDefault = 25 * time.Second
)

// Engine runs the pipeline: Source → admit → (verifier → journal → processor) × Workers →
// report writer → ack at the source. A job is acked only after its row is durable.
type Engine struct {
	Source    job.Source
	Processor Processor
	Report    Report
	Workers   int
	Logger    *slog.Logger
	Clock     clock.Clock
	// Admitter applies the admit rule (validity, dedupe); nil means a fresh one,
	// usernames compared case-insensitively.
	Admitter *admit.Admitter
	// Verifier, when set, checks each admitted job's user before its claim: a user who
	// can't receive a code gets its row without a claim or a resend.
	Verifier Verifier
	// Journal, when set, makes an intent durable before a job's first call.
	Journal Journal
	// Initial are rows recorded before the first job, through the same writer as every
	// other row (a resumed campaign's `unknown` rows): they are in the summary and
	// OnResult sees them.
	Initial []job.Result
	// OnResult observes every recorded result (metrics, progress). Called from the
	// writer goroutine after the row is durable.
	OnResult func(job.Result)
	// SettleTimeout bounds each ack/release call made after a stop.
	SettleTimeout time.Duration
	// BatchSize caps the rows written between two fsyncs (group commit).
	BatchSize int
}

// Summary is what a run did.
type Summary struct {
	Counts   map[job.Status]int
	Rows     int
	Attempts int
	Released int
	Started  time.Time
	Finished time.Time
}

type settled struct {
	job job.Job
	res job.Result
}

// Run processes jobs until the source ends, stop is done (soft stop: no new calls,
// in-flight calls finish) or a systemic error. kill aborts calls in flight (hard stop).
// It returns a *SystemicError, ErrInterrupted, a source or report error, or nil.
func (e *Engine) Run(stop, kill context.Context) (*Summary, error) {
	clk := clock.Or(e.Clock)
	log := e.logger()
	adm := e.Admitter
	if adm == nil {
		adm = admit.New(admit.CaseInsensitive, nil)
	}
	workers := max(e.Workers, 1)
	batchSize := e.BatchSize
	if batchSize <= 0 {
		batchSize = BatchSizeDefault
	}
	settleTimeout := e.SettleTimeout
	if settleTimeout <= 0 {
		settleTimeout = SettleTimeoutDefault
	}
	settleCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(stop), settleTimeout)
	}

	sum := &Summary{Counts: map[job.Status]int{}, Started: clk.Now()}
	var relMu sync.Mutex
	// release gives a job back to its source. When a call may have reached Cognito
	// (mayHaveCalled) the intent stays, and a resume reports the user unknown rather
	// than risk a second code.
	release := func(j job.Job, mayHaveCalled bool) {
		adm.Forget(j.Username)
		if e.Journal != nil && !mayHaveCalled {
			e.Journal.Abandon(j)
		}
		relMu.Lock()
		sum.Released++
		relMu.Unlock()
		if j.Release == nil {
			return
		}
		ctx, cancel := settleCtx()
		defer cancel()
		if err := j.Release(ctx); err != nil {
			log.Warn("release failed", "source_ref", j.SourceRef, "error", err)
		}
	}

	dispatch, cancelDispatch := context.WithCancelCause(stop)
	defer cancelDispatch(nil)
	jobs := make(chan job.Job) // unbuffered: take from the source only what a worker starts
	results := make(chan settled, workers*2)

	var producers sync.WaitGroup
	producers.Add(1)
	go func() { // reader
		defer producers.Done()
		defer close(jobs)
		for _, r := range e.Initial {
			results <- settled{res: r}
		}
		for {
			j, err := e.Source.Next(dispatch)
			if err != nil {
				if !errors.Is(err, io.EOF) && dispatch.Err() == nil {
					cancelDispatch(fmt.Errorf("source: %w", err))
				}
				return
			}
			if row, send := adm.Admit(j); !send {
				now := clk.Now().UTC()
				row.StartedAt, row.FinishedAt = now, now
				results <- settled{j, row}
				continue
			}
			select {
			case jobs <- j:
			case <-dispatch.Done():
				release(j, false)
				return
			}
		}
	}()

	for range workers {
		producers.Add(1)
		go func() {
			defer producers.Done()
			for j := range jobs {
				if dispatch.Err() != nil {
					release(j, false)
					continue
				}
				res := e.process(dispatch, kill, j, cancelDispatch)
				switch res.Class {
				case job.ClassCanceled:
					release(j, res.Ambiguous)
					continue
				case job.ClassSystemic:
					// The user isn't at fault: no row, give the job back, stop the campaign.
					cancelDispatch(&SystemicError{Code: res.ErrorCode, Message: res.ErrorMessage, Fix: res.Fix})
					log.Error("systemic error, stopping", "username", res.Username, "error_code", res.ErrorCode)
					release(j, res.Ambiguous)
					continue
				}
				if j.Release != nil && res.Redeliver() {
					adm.Forget(j.Username) // its redelivery is not a duplicate
				}
				results <- settled{j, res}
			}
		}()
	}
	go func() { producers.Wait(); close(results) }()

	// Writer: the only goroutine touching the report. Each group of rows is written,
	// made durable (flush + fsync), and only then are its jobs acked.
	var writeErr error
	records.GroupCommit(results, batchSize, nil, func(group []settled) {
		if writeErr == nil {
			for _, s := range group {
				if err := e.Report.Write(s.res); err != nil {
					writeErr = fmt.Errorf("report: %w", err)
					cancelDispatch(writeErr)
					break
				}
			}
		}
		if writeErr == nil {
			if err := e.Report.Sync(); err != nil {
				writeErr = fmt.Errorf("report: %w", err)
				cancelDispatch(writeErr)
			}
		}
		ctx, cancel := settleCtx()
		defer cancel()
		for _, s := range group {
			if writeErr != nil {
				// The call happened but its row can't be recorded: keep the intent.
				release(s.job, true)
				continue
			}
			if s.job.Ack != nil {
				if err := s.job.Ack(ctx, s.res); err != nil {
					log.Warn("ack failed", "username", s.res.Username, "source_ref", s.job.SourceRef, "error", err)
				}
			}
			sum.Rows++
			sum.Counts[s.res.Status]++
			sum.Attempts += s.res.Attempts
			if e.OnResult != nil {
				e.OnResult(s.res)
			}
		}
	})
	sum.Finished = clk.Now()

	cause := context.Cause(dispatch)
	switch {
	case writeErr != nil:
		return sum, writeErr
	case cause == nil:
		return sum, nil
	case errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded):
		// The stop context ended the run (a signal, or the caller's deadline).
		return sum, ErrInterrupted
	}
	return sum, cause
}

// process runs one job — verify, claim, resend — turning a panic into that user's failed
// row. fail stops the campaign (the ledger can't record intents: calling without one
// would break the no-second-code guarantee).
func (e *Engine) process(stop, kill context.Context, j job.Job, fail context.CancelCauseFunc) (res job.Result) {
	defer func() {
		if p := recover(); p != nil {
			e.logger().Error("panic in job", "username", j.Username, "panic", fmt.Sprint(p),
				"stack", string(debug.Stack()))
			now := clock.Or(e.Clock).Now().UTC()
			// The call may have been made before the panic: keep the intent (Ambiguous).
			res = job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusFailed,
				ErrorCode: "Panic", ErrorMessage: fmt.Sprint(p), Class: job.ClassPerUser,
				Attempts: max(res.Attempts, 1), StartedAt: now, FinishedAt: now, Ambiguous: true}
		}
	}()
	if e.Verifier != nil {
		if res, send := e.Verifier.Verify(stop, kill, j); !send {
			return res // nothing was sent: no intent to record
		}
	}
	if e.Journal != nil {
		if err := e.Journal.Intend(stop, j); err != nil {
			if stop.Err() == nil {
				fail(fmt.Errorf("ledger: %w", err))
			}
			return job.Result{Username: j.Username, SourceRef: j.SourceRef, Class: job.ClassCanceled}
		}
	}
	return e.Processor.Resend(stop, kill, j)
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}
