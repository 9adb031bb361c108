package campaign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/metrics"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
	"github.com/cognito-resend/cognito-resend/worker/source/sqssource"
)

// sqsStartTimeout bounds opening the queue (GetQueueAttributes and its retries).
const sqsStartTimeout = 30 * time.Second

// source is one opened source and what the campaign needs besides its jobs.
type source struct {
	job.Source
	// close settles what the source still holds (queue mode: flush deletes, release
	// unstarted messages). It runs after the engine, with a context that outlives stop.
	close func(ctx context.Context) error
	desc  []any // log attributes
	// ready is /readyz; nil means ready while running. live is /healthz; nil: always.
	ready, live func() error
	// pauser (queue mode) stops and resumes receiving: the outage gate's (gate.go).
	pauser pauser
	// header is what a CSV source decided about its first row (nil for other sources).
	header *csvsource.HeaderInfo
}

// countable reports whether the configured source can be counted before the run: a
// queue can't (receiving would hide its messages from other consumers).
func countable(cfg config.Config) bool { return cfg.SQSQueueURL == "" }

// openSource opens the configured source. m is nil for the census.
func (c *Campaign) openSource(ctx context.Context, log *slog.Logger, m *metrics.Metrics) (*source, error) {
	if _, err := c.connect(ctx); err != nil {
		return nil, err
	}
	switch {
	case c.cfg.CSV != "":
		return openCSV(ctx, c.cfg.CSV, c.cfg.Header, c.env.Stdin)
	case c.cfg.SQSQueueURL != "":
		return c.openSQS(ctx, log, m)
	case c.cfg.PoolSource():
		return c.openPool(ctx) // --user-pool-id beside another source only names the pool
	}
	return nil, errors.New("no source")
}

// openCSV opens --csv (a file, or - for stdin), its first row read under --header.
func openCSV(stop context.Context, path string, header csvsource.Header, stdin io.Reader) (*source, error) {
	var in io.Reader = stdin
	closeIn := func() {}
	if path == "-" {
		// A read from an open pipe ignores contexts and can't be interrupted portably:
		// relay stdin through an io.Pipe that the first signal closes, so a stop isn't
		// stuck waiting for input. The blocked relay ends with the process.
		pr, pw := io.Pipe()
		go func() { _, err := io.Copy(pw, stdin); pw.CloseWithError(err) }()
		context.AfterFunc(stop, func() { pr.CloseWithError(context.Cause(stop)) })
		in = pr
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, &config.FieldError{Field: "csv", Msg: err.Error()}
		}
		in, closeIn = f, func() { f.Close() }
	}
	src, err := csvsource.New(in, csvsource.Options{Header: header, Cells: records.SheetReader,
		Refuse: records.ReportAsInput, Stream: path == "-"})
	if err != nil {
		closeIn()
		return nil, fmt.Errorf("--csv %s: %w", path, err)
	}
	h := src.Header()
	return &source{Source: &namedCSV{Source: src, path: path}, close: func(context.Context) error { closeIn(); return nil },
		desc: []any{"csv", path}, header: &h}, nil
}

// namedCSV names the file in what the CSV source finds wrong with it as it reads (a NUL
// byte, bytes that are not UTF-8), as openCSV does for what it finds at the start.
type namedCSV struct {
	job.Source
	path string
}

func (n *namedCSV) Next(ctx context.Context) (job.Job, error) {
	j, err := n.Source.Next(ctx)
	var nc *csvsource.NotCSVError
	if errors.As(err, &nc) {
		err = fmt.Errorf("--csv %s: %w", n.path, err)
	}
	return j, err
}

// logHeader says at info what the CSV's first row was taken for, and why.
func (s *source) logHeader(log *slog.Logger) {
	if h := s.header; h != nil {
		log.Info("csv header", "header", h.Verdict(), "line", h.Line, "reason", h.Reason)
	}
}

// openSQS opens queue mode: the queue must exist and be readable (checked with
// GetQueueAttributes, which also finds its dead-letter queue) or it is a usage error.
func (c *Campaign) openSQS(ctx context.Context, log *slog.Logger, m *metrics.Metrics) (*source, error) {
	startCtx, cancel := context.WithTimeout(ctx, sqsStartTimeout)
	defer cancel()
	src, err := sqssource.New(startCtx, sqssource.Config{
		API:                c.clients.SQS(c.cfg.SQSQueueURL),
		QueueURL:           c.cfg.SQSQueueURL,
		WaitTimeSeconds:    int32(c.cfg.WaitTimeSeconds),
		VisibilityTimeout:  c.cfg.VisibilityTimeout,
		MaxInFlight:        c.cfg.MaxInFlight,
		Workers:            c.cfg.Workers,
		ExitWhenEmpty:      c.cfg.ExitWhenEmpty,
		EmptyPolls:         c.cfg.EmptyPolls,
		RetryDelay:         c.cfg.RetryDelay,
		LimitExceededDelay: c.cfg.LimitExceededDelay,
		Logger:             log,
		Metrics:            m,
		Clock:              c.clock,
		// Nothing is received before Cognito has answered a probe (guardQueue).
		PausedAtStart: reasonFirstAnswer,
		// Nor, under --daily-budget, before the window's sends are read (budgetPause.atStart).
		IdleAtStart: c.idleAtStart(),
	})
	if err != nil {
		if noAnswer(startCtx, err) && ctx.Err() == nil {
			return nil, &unreachableError{what: "queue", err: err}
		}
		return nil, &config.FieldError{Field: "sqs-queue-url", Msg: err.Error()}
	}
	desc := []any{"sqs_queue_url", c.cfg.SQSQueueURL, "dlq", src.DLQURL(), "max_in_flight", src.MaxInFlight(),
		"exit_when_empty", c.cfg.ExitWhenEmpty}
	return &source{Source: src, close: src.Close, desc: desc, ready: src.Ready, live: src.Live, pauser: src}, nil
}

// idleAtStart is the queue source's IdleAtStart: under --daily-budget it receives nothing
// before the run has read whether the window is spent (budgetPause.atStart).
func (c *Campaign) idleAtStart() string {
	if c.cfg.DailyBudget > 0 {
		return reasonBudgetCheck
	}
	return ""
}
