package main

import (
	"context"
	"log/slog"
	"net/url"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker"
)

// newSQS builds the SQS client (standard AWS chain: credentials, region, and
// AWS_ENDPOINT_URL_SQS for emulators). SQS calls keep the SDK's standard retryer. The
// queue may live in another region than the user pool: a queue URL on an AWS host
// (https://sqs.eu-west-1.amazonaws.com/...) sets the client's region.
func newSQS(ac aws.Config, queueURL string) *sqs.Client {
	return sqs.NewFromConfig(ac, func(o *sqs.Options) {
		if r := regionFromQueueURL(queueURL); r != "" {
			o.Region = r
		}
	})
}

var queueHostRegion = regexp.MustCompile(`^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$|^([a-z0-9-]+)\.queue\.amazonaws\.com$`)

func regionFromQueueURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	m := queueHostRegion.FindStringSubmatch(u.Hostname())
	if m == nil {
		return ""
	}
	return m[1] + m[3]
}

// openSQS opens queue mode: the queue must exist and be readable (checked with
// GetQueueAttributes, which also finds its dead-letter queue) or it is a usage error.
func openSQS(ctx context.Context, cfg config.Config, ac aws.Config, log *slog.Logger, m *worker.Metrics) (*source, error) {
	maxInFlight := cfg.MaxInFlight
	if maxInFlight == 0 {
		maxInFlight = 2 * cfg.Workers
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	src, err := worker.NewSQSSource(startCtx, worker.SQSConfig{
		API:                newSQS(ac, cfg.SQSQueueURL),
		QueueURL:           cfg.SQSQueueURL,
		WaitTimeSeconds:    int32(cfg.WaitTimeSeconds),
		VisibilityTimeout:  cfg.VisibilityTimeout,
		MaxInFlight:        maxInFlight,
		ExitWhenEmpty:      cfg.ExitWhenEmpty,
		EmptyPolls:         cfg.EmptyPolls,
		RetryDelay:         cfg.RetryDelay,
		LimitExceededDelay: cfg.LimitExceededDelay,
		Logger:             log,
		Metrics:            m,
	})
	if err != nil {
		return nil, &config.FieldError{Field: "sqs-queue-url", Msg: err.Error()}
	}
	desc := []any{"sqs_queue_url", cfg.SQSQueueURL, "dlq", src.DLQURL(), "max_in_flight", maxInFlight,
		"exit_when_empty", cfg.ExitWhenEmpty}
	return &source{src: src, close: src.Close, signalIsNormal: true, desc: desc, ready: src.Ready}, nil
}

// serveMetrics starts --metrics-addr: /metrics, /healthz and /readyz (the source's
// readiness; a CSV campaign is ready while it runs).
func serveMetrics(stop context.Context, addr string, m *worker.Metrics, s *source, log *slog.Logger) (*worker.MetricsServer, error) {
	ready := worker.RunningReady(stop)
	if srcReady := s.ready; srcReady != nil {
		running := ready
		ready = func() error {
			if err := running(); err != nil {
				return err
			}
			return srcReady()
		}
	}
	srv, err := worker.ServeMetrics(stop, addr, m.Handler(worker.Health{Ready: ready}), log)
	if err != nil {
		return nil, &config.FieldError{Field: "metrics-addr", Msg: err.Error()}
	}
	log.Info("metrics listening", "addr", srv.Addr)
	return srv, nil
}
