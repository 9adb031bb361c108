package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker"
)

func newLogger(cfg config.Config, stderr io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "auto" {
		format = "json"
		if isTerminal(stderr) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(stderr, opts))
}

// awsConfig loads the standard AWS chain. ResendConfirmationCode is unsigned (anonymous
// auth), so no credentials are needed for it; the region is.
func awsConfig(ctx context.Context, cfg config.Config) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return ac, fmt.Errorf("AWS configuration: %w", err)
	}
	if ac.Region == "" {
		return ac, &config.FieldError{Field: "region", Msg: "no region: pass --region or set AWS_REGION"}
	}
	return ac, nil
}

// newCognito builds the Cognito client. Its retryer is NopRetryer: go-retry in the
// resender is the only retry layer (the SDK would otherwise retry TooManyRequests and
// LimitExceeded on its own, behind the rate limiter's back).
func newCognito(ac aws.Config) *cip.Client {
	return cip.NewFromConfig(ac, func(o *cip.Options) {
		o.Retryer = aws.NopRetryer{}
	})
}

func openInput(path string, stdin io.Reader) (io.Reader, func(), error) {
	if path == "-" {
		return stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, &config.FieldError{Field: "csv", Msg: err.Error()}
	}
	return f, func() { f.Close() }, nil
}

func defaultReportPath(now time.Time) string {
	return "cognito-resend-report-" + now.UTC().Format("20060102T150405Z") + ".csv"
}

// settleBudget bounds the work after the engine has stopped.
const settleBudget = 5 * time.Second

// source is one opened source and what the campaign needs to know about it.
type source struct {
	src worker.Source
	// close settles what the source still holds (queue mode: flush deletes, release
	// unstarted messages). It runs after the engine, with a context that outlives stop.
	close func(ctx context.Context) error
	// signalIsNormal: a signal is how this mode normally ends (queue workers), exit 0.
	signalIsNormal bool
	desc           []any // log attributes
	// ready is /readyz; nil means ready while running.
	ready func() error
}

func openCSV(stop context.Context, cfg config.Config, stdin io.Reader) (*source, error) {
	in, closeIn, err := openInput(cfg.CSV, stdin)
	if err != nil {
		return nil, err
	}
	if cfg.CSV == "-" {
		// A read from an open pipe ignores contexts and can't be interrupted portably:
		// relay stdin through an io.Pipe that the first signal closes, so a stop isn't
		// stuck waiting for input. The blocked relay ends with the process.
		pr, pw := io.Pipe()
		raw := in
		go func() { _, err := io.Copy(pw, raw); pw.CloseWithError(err) }()
		context.AfterFunc(stop, func() { pr.CloseWithError(context.Cause(stop)) })
		in = pr
	}
	src, err := worker.NewCSVSource(in)
	if err != nil {
		closeIn()
		return nil, fmt.Errorf("--csv %s: %w", cfg.CSV, err)
	}

	return &source{src: src, close: func(context.Context) error { closeIn(); return nil },
		desc: []any{"csv", cfg.CSV}}, nil
}

// runCampaign wires source → limiter → resender → report and runs it.
func runCampaign(stop, kill context.Context, cfg config.Config, stdin io.Reader, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)

	if cfg.SQSQueueURL != "" && cfg.DryRun {
		fmt.Fprintln(stdout, "dry run: queue mode receives nothing in a dry run — receiving would hide the "+
			"messages from other consumers for the visibility timeout. To see what a campaign would do, "+
			"dry-run the CSV you enqueue (run --csv FILE --dry-run) or check the queue's ApproximateNumberOfMessages.")
		return nil
	}
	ac, err := awsConfig(stop, cfg)
	if err != nil {
		return usageErr(err)
	}

	// A campaign over a finite source is counted first (no resend call) for --dry-run and
	// for the confirmation prompt; then the source is opened again for the real run.
	total := -1
	if cfg.SQSQueueURL == "" && (cfg.DryRun || !cfg.Yes) {
		if !cfg.DryRun && !isTerminal(stdin) {
			return usageErr(errors.New("refusing to start: no terminal to confirm on; pass --yes (alias --force) to confirm, or --dry-run to count first"))
		}
		c, err := preflight(stop, cfg, ac, stdin)
		if err != nil {
			return usageErr(err)
		}
		if cfg.DryRun {
			printCensus(stdout, c, cfg.Rate)
			return nil
		}
		if err := confirm(stdin, stderr, c.ToSend, cfg.Rate); err != nil {
			return usageErr(err)
		}
		total = c.Read
	}

	var metrics *worker.Metrics // nil records nothing: no --metrics-addr
	if cfg.MetricsAddr != "" {
		metrics = worker.NewMetrics()
	}
	s, err := openSource(stop, cfg, ac, stdin, log, metrics)
	if err != nil {
		return usageErr(err)
	}

	reportPath := cfg.Report
	if reportPath == "" {
		reportPath = defaultReportPath(time.Now())
	}
	rec, err := openRecords(cfg, reportPath, s, log)
	if err != nil {
		return usageErr(err)
	}
	report := rec.report
	defer rec.ledger.Close()

	limiter := worker.NewLimiter(worker.LimiterConfig{Rate: cfg.Rate, Burst: cfg.Burst, Adaptive: cfg.Adaptive})
	resender := &worker.Resender{
		API:                 newCognito(ac),
		ClientID:            cfg.ClientID,
		ClientSecret:        cfg.ClientSecret.Reveal(),
		Metadata:            cfg.Metadata,
		AnalyticsEndpointID: cfg.AnalyticsEndpointID,
		Limiter:             limiter,
		Breaker:             &worker.Breaker{Limiter: limiter, Threshold: 5, Base: time.Second, Max: 30 * time.Second},
		MaxAttempts:         cfg.MaxAttempts,
		BackoffBase:         cfg.BackoffBase,
		BackoffMax:          cfg.BackoffMax,
		CallTimeout:         cfg.CallTimeout,
		Logger:              log,
	}
	engine := &worker.Engine{
		Source:    s.src,
		Processor: resender,
		Report:    report,
		Workers:   cfg.Workers,
		Logger:    log,
		Journal:   rec.ledger,
		Seen:      rec.seen,
		// Acks after the stop share the settle budget.
		SettleTimeout: settleBudget,
	}
	if metrics != nil {
		resender.OnAttempt = metrics.ObserveAttempt
		engine.OnResult = metrics.ObserveResult
		metrics.WatchLimiter(limiter)
		srv, err := serveMetrics(stop, cfg.MetricsAddr, metrics, s, log)
		if err != nil {
			_ = s.close(context.WithoutCancel(stop))
			_ = report.Close()
			return usageErr(err)
		}
		defer srv.Close(context.WithoutCancel(stop)) //nolint:errcheck // best effort at exit
	}

	// After a stop signal, calls in flight get --shutdown-timeout to finish; then abort.
	kill, cancelKill := context.WithCancel(kill)
	defer cancelKill()
	context.AfterFunc(stop, func() {
		t := time.AfterFunc(cfg.ShutdownTimeout, cancelKill)
		context.AfterFunc(kill, func() { t.Stop() })
	})

	if s.signalIsNormal {
		total = -1 // a queue has no end to count toward
	}
	prog := newProgress(cfg.Progress, stderr, isTerminal(stderr), total, limiter, log, cfg.ProgressInterval)
	onResult := engine.OnResult
	engine.OnResult = func(r worker.Result) {
		if onResult != nil {
			onResult(r)
		}
		prog.observe(r)
	}

	desc := append(s.desc, "report", reportPath, "rate", cfg.Rate, "workers", cfg.Workers)
	if size := cfg.ReportRotateSize(); size > 0 {
		desc = append(desc, "report_max_size", config.ByteSize(size).String(), "report_keep", cfg.ReportKeep)
	}
	log.Info("campaign starting", desc...)
	sum, runErr := engine.Run(stop, kill)
	prog.finish()
	// Settling (flush deletes, release unstarted messages, close files) has its own short
	// budget, so a stop ends within --shutdown-timeout + settleBudget.
	settle, cancelSettle := context.WithTimeout(context.WithoutCancel(stop), settleBudget)
	defer cancelSettle()
	if err := s.close(settle); err != nil {
		log.Warn("source close", "error", err)
	}
	if err := rec.ledger.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if err := report.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("report: %w", err)
	}
	printSummary(stderr, sum, limiter, reportPath)

	var sys *worker.SystemicError
	switch {
	case errors.As(runErr, &sys):
		return stoppedErr(fmt.Errorf("campaign stopped: %w", runErr))
	case errors.Is(runErr, worker.ErrInterrupted) && s.signalIsNormal:
		// A queue worker told to stop has stopped cleanly: nothing is lost. Failed rows
		// are normal in a long-lived worker (their messages retry through the queue).
		return nil
	case errors.Is(runErr, worker.ErrInterrupted):
		return stoppedErr(errors.New("campaign interrupted; rows not in the report were not attempted"))
	case runErr != nil:
		return stoppedErr(fmt.Errorf("campaign stopped: %w", runErr))
	}
	if sum.Counts[worker.StatusFailed] > 0 {
		return &exitError{code: exitFailed, err: nil}
	}
	return nil
}

// openSource opens the configured source for the real run.
func openSource(ctx context.Context, cfg config.Config, ac aws.Config, stdin io.Reader, log *slog.Logger, metrics *worker.Metrics) (*source, error) {
	switch {
	case cfg.CSV != "":
		return openCSV(ctx, cfg, stdin)
	case cfg.UserPoolID != "":
		return openPool(ctx, cfg, ac)
	case cfg.SQSQueueURL != "":
		return openSQS(ctx, cfg, ac, log, metrics)
	}
	return nil, errors.New("no source")
}

// preflight counts what a campaign would do, without calling ResendConfirmationCode:
// rows, to send, invalid, duplicates — honouring --resume.
func preflight(ctx context.Context, cfg config.Config, ac aws.Config, stdin io.Reader) (census, error) {
	s, err := openSource(ctx, cfg, ac, stdin, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return census{}, err
	}
	defer s.close(context.WithoutCancel(ctx)) //nolint:errcheck // read-only pass
	st, err := resumeState(cfg, cfg.Report, s.signalIsNormal)
	if err != nil {
		return census{}, err
	}
	var seen *worker.SeenSet
	if st != nil {
		seen = st.Final
		s.skipRecorded(st)
	}
	return countSource(ctx, s.src, seen)
}

func printSummary(w io.Writer, sum *worker.Summary, lim *worker.Limiter, reportPath string) {
	elapsed := sum.Finished.Sub(sum.Started)
	var parts []string
	for _, st := range worker.Statuses {
		if n := sum.Counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", st, n))
		}
	}
	secs := max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(w, "summary: %d rows [%s] in %s; %d Cognito calls (%.1f/s), %d throttled, rate now %.1f/s\n",
		sum.Rows, strings.Join(parts, " "), elapsed.Round(time.Millisecond), sum.Attempts,
		float64(sum.Attempts)/secs, lim.Throttles(), lim.Rate())
	if sum.Released > 0 {
		fmt.Fprintf(w, "summary: %d users not attempted (no row); run again on the rest\n", sum.Released)
	}
	fmt.Fprintf(w, "report: %s\n", reportPath)
}
