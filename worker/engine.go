package worker

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// ErrInterrupted is returned by Run when the stop context ended the campaign.
var ErrInterrupted = errors.New("interrupted")

// SystemicError stops a campaign: an answer that would fail every user the same way.
type SystemicError struct {
	Code, Message, Fix string
}

func (e *SystemicError) Error() string {
	return fmt.Sprintf("Cognito answered %s (%s); fix: %s", e.Code, e.Message, e.Fix)
}

// Processor turns a job into a result; *Resender is the real one.
type Processor interface {
	Resend(stop, kill context.Context, job Job) Result
}

var _ Processor = (*Resender)(nil)

// Engine runs the pipeline: Source → (limiter → resender with retries) × Workers →
// report writer → ack at the source. A job is acked only after its row is durable.
type Engine struct {
	Source    Source
	Processor Processor
	Report    ReportWriter
	Workers   int
	Logger    *slog.Logger
	Clock     Clock
	// Seen dedupes usernames within the run; nil means a fresh set.
	Seen *SeenSet
	// Journal, when set, makes an intent durable before a job's first call.
	Journal Journal
	// OnResult observes every recorded result (metrics, progress). Called from the
	// writer goroutine after the row is durable.
	OnResult func(Result)
	// SettleTimeout bounds each ack/release call made after a stop.
	SettleTimeout time.Duration
	// BatchSize caps the rows written between two fsyncs (group commit).
	BatchSize int
}

// Journal records intent before a call so a crash can't lead to a second send.
type Journal interface {
	// Intend blocks until the intent to call Cognito for the job is durable.
	Intend(ctx context.Context, job Job) error
	// Abandon records that the job was not finished and no call may have reached
	// Cognito (it was released before or between throttled attempts).
	Abandon(job Job)
}

// Summary is what a run did.
type Summary struct {
	Counts   map[Status]int
	Rows     int
	Attempts int
	Released int
	Started  time.Time
	Finished time.Time
}

type settled struct {
	job Job
	res Result
}

// Run processes jobs until the source ends, stop is done (soft stop: no new calls,
// in-flight calls finish) or a systemic error. kill aborts calls in flight (hard stop).
// It returns a *SystemicError, ErrInterrupted, a source or report error, or nil.
func (e *Engine) Run(stop, kill context.Context) (*Summary, error) {
	clock := e.clock()
	log := e.logger()
	seen := e.Seen
	if seen == nil {
		seen = NewSeenSet()
	}
	workers := max(e.Workers, 1)
	batchSize := e.BatchSize
	if batchSize <= 0 {
		batchSize = 256
	}
	settleTimeout := e.SettleTimeout
	if settleTimeout <= 0 {
		settleTimeout = 10 * time.Second
	}
	settleCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(stop), settleTimeout)
	}

	sum := &Summary{Counts: map[Status]int{}, Started: clock.Now()}
	var relMu sync.Mutex
	// release gives a job back to its source. When a call may have reached Cognito
	// (mayHaveCalled) the intent stays, and a resume reports the user unknown rather
	// than risk a second code.
	release := func(j Job, mayHaveCalled bool) {
		seen.Remove(j.Username)
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
	jobs := make(chan Job) // unbuffered: take from the source only what a worker starts
	results := make(chan settled, workers*2)

	var producers sync.WaitGroup
	producers.Add(1)
	go func() { // reader
		defer producers.Done()
		defer close(jobs)
		for {
			job, err := e.Source.Next(dispatch)
			if err != nil {
				if !errors.Is(err, io.EOF) && dispatch.Err() == nil {
					cancelDispatch(fmt.Errorf("source: %w", err))
				}
				return
			}
			now := clock.Now().UTC()
			switch {
			case job.Invalid != "":
				results <- settled{job, Result{Username: job.Username, Status: StatusInvalidInput,
					ErrorCode: "InvalidInput", ErrorMessage: job.Invalid, SourceRef: job.SourceRef,
					StartedAt: now, FinishedAt: now, Class: ClassPerUser}}
			case !seen.Add(job.Username):
				results <- settled{job, Result{Username: job.Username, Status: StatusDuplicate,
					ErrorMessage: "username already has a row in this campaign", SourceRef: job.SourceRef,
					StartedAt: now, FinishedAt: now, Class: ClassPerUser}}
			default:
				select {
				case jobs <- job:
				case <-dispatch.Done():
					release(job, false)
					return
				}
			}
		}
	}()

	for range workers {
		producers.Add(1)
		go func() {
			defer producers.Done()
			for job := range jobs {
				if dispatch.Err() != nil {
					release(job, false)
					continue
				}
				res := e.process(dispatch, kill, job, cancelDispatch)
				switch res.Class {
				case ClassCanceled:
					release(job, res.Ambiguous)
					continue
				case ClassSystemic:
					// The user isn't at fault: no row, give the job back, stop the campaign.
					cancelDispatch(&SystemicError{Code: res.ErrorCode, Message: res.ErrorMessage, Fix: res.Fix})
					log.Error("systemic error, stopping", "username", res.Username, "error_code", res.ErrorCode)
					release(job, res.Ambiguous)
					continue
				}
				if redeliverable(job, res) {
					seen.Remove(job.Username)
				}
				results <- settled{job, res}
			}
		}()
	}
	go func() { producers.Wait(); close(results) }()

	// Writer: the only goroutine touching the report. Rows are written as they come and
	// made durable in groups (flush + fsync) before their jobs are acked.
	var writeErr error
	batch := make([]settled, 0, batchSize)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if writeErr == nil {
			if err := e.Report.Sync(); err != nil {
				writeErr = fmt.Errorf("report: %w", err)
				cancelDispatch(writeErr)
			}
		}
		ctx, cancel := settleCtx()
		defer cancel()
		for _, s := range batch {
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
		batch = batch[:0]
	}
	for {
		var (
			s  settled
			ok bool
		)
		if len(batch) == 0 {
			s, ok = <-results
		} else {
			select {
			case s, ok = <-results:
			default:
				flush()
				continue
			}
		}
		if !ok {
			break
		}
		if writeErr == nil {
			if err := e.Report.Write(s.res); err != nil {
				writeErr = fmt.Errorf("report: %w", err)
				cancelDispatch(writeErr)
			}
		}
		batch = append(batch, s)
		if len(batch) >= batchSize {
			flush()
		}
	}
	flush()
	sum.Finished = clock.Now()

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

// process runs one job, turning a panic into that user's failed row.
// fail stops the campaign (the ledger can't record intents: calling without one would
// break the no-second-code guarantee).
func (e *Engine) process(stop, kill context.Context, job Job, fail context.CancelCauseFunc) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			e.logger().Error("panic in job", "username", job.Username, "panic", fmt.Sprint(p),
				"stack", string(debug.Stack()))
			now := e.clock().Now().UTC()
			// The call may have been made before the panic: keep the intent (Ambiguous).
			res = Result{Username: job.Username, SourceRef: job.SourceRef, Status: StatusFailed,
				ErrorCode: "Panic", ErrorMessage: fmt.Sprint(p), Class: ClassPerUser,
				Attempts: max(res.Attempts, 1), StartedAt: now, FinishedAt: now, Ambiguous: true}
		}
	}()
	if e.Journal != nil {
		if err := e.Journal.Intend(stop, job); err != nil {
			if stop.Err() == nil {
				fail(fmt.Errorf("ledger: %w", err))
			}
			return Result{Username: job.Username, SourceRef: job.SourceRef, Class: ClassCanceled}
		}
	}
	return e.Processor.Resend(stop, kill, job)
}

func (e *Engine) clock() Clock {
	if e.Clock == nil {
		return realClock{}
	}
	return e.Clock
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// SeenSet dedupes usernames case-insensitively (Cognito usernames are case-insensitive
// in pools created since 2020) by a 64-bit hash in an open-addressing table, so a
// million users cost about 16 MB.
type SeenSet struct {
	mu   sync.Mutex
	seed maphash.Seed
	set  u64set
}

// NewSeenSet returns an empty set.
func NewSeenSet() *SeenSet {
	return &SeenSet{seed: maphash.MakeSeed()}
}

func (s *SeenSet) key(username string) uint64 {
	return maphash.String(s.seed, strings.ToLower(username))
}

// Add records username and reports whether it was new.
func (s *SeenSet) Add(username string) bool {
	k := s.key(username)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.add(k)
}

// Remove forgets username (its job was given back to the source).
func (s *SeenSet) Remove(username string) {
	k := s.key(username)
	s.mu.Lock()
	s.set.remove(k)
	s.mu.Unlock()
}

// Len is the number of usernames in the set.
func (s *SeenSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.n
}

// redeliverable: a source that can give a job back (SQS) will deliver it again after a
// retryable failure or a per-user limit, and that delivery must not count as a duplicate.
func redeliverable(job Job, res Result) bool {
	return job.Release != nil &&
		((res.Status == StatusFailed && res.Class == ClassRetryable) || res.Status == StatusLimitExceeded)
}

// Contains reports whether username is in the set.
func (s *SeenSet) Contains(username string) bool {
	k := s.key(username)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.has(k)
}
