package worker

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const metricsNamespace = "cognito_resend"

// Metrics holds the Prometheus metrics of one run, in its own registry (never the
// global one). A nil *Metrics is valid and records nothing.
type Metrics struct {
	Registry *prometheus.Registry

	jobs       *prometheus.CounterVec
	calls      *prometheus.CounterVec
	throttles  prometheus.Counter
	latency    prometheus.Histogram
	sqsCalls   *prometheus.CounterVec
	sqsErrors  *prometheus.CounterVec
	sqsEntries *prometheus.CounterVec
	dlqMoves   prometheus.Counter
	received   prometheus.Counter
}

// NewMetrics registers the run's metrics in a fresh registry (with Go and process
// collectors).
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "jobs_total", Help: "Jobs recorded in the report, by status."}, []string{"status"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "cognito_calls_total", Help: "ResendConfirmationCode attempts, by outcome class and error code (\"\" = success)."},
			[]string{"class", "code"}),
		throttles: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "cognito_throttles_total", Help: "TooManyRequestsException answers."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: metricsNamespace,
			Name: "cognito_call_duration_seconds", Help: "ResendConfirmationCode call latency.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
		sqsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "sqs_requests_total", Help: "SQS requests, by operation."}, []string{"op"}),
		sqsErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "sqs_errors_total", Help: "Failed SQS requests and failed batch entries, by operation and error code."},
			[]string{"op", "code"}),
		sqsEntries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "sqs_messages_settled_total", Help: "Messages settled at the queue, by action (delete, retry_later, limit_later, release, extend)."},
			[]string{"action"}),
		dlqMoves: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "sqs_dlq_moves_total", Help: "Poison messages copied to the dead-letter queue."}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "sqs_messages_received_total", Help: "Messages received from the queue."}),
	}
	reg.MustRegister(m.jobs, m.calls, m.throttles, m.latency, m.sqsCalls, m.sqsErrors,
		m.sqsEntries, m.dlqMoves, m.received,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, s := range Statuses {
		m.jobs.WithLabelValues(string(s))
	}
	return m
}

// ObserveResult counts one recorded result (Engine.OnResult).
func (m *Metrics) ObserveResult(r Result) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(string(r.Status)).Inc()
}

// ObserveAttempt counts one Cognito call (Resender.OnAttempt).
func (m *Metrics) ObserveAttempt(o Outcome, latency time.Duration) {
	if m == nil {
		return
	}
	code := o.Code
	if o.Class == ClassNone {
		code = ""
	}
	m.calls.WithLabelValues(o.Class.String(), code).Inc()
	if o.Throttle {
		m.throttles.Inc()
	}
	m.latency.Observe(latency.Seconds())
}

// WatchLimiter exports the limiter's current rate.
func (m *Metrics) WatchLimiter(l *Limiter) {
	if m == nil || l == nil {
		return
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace,
		Name: "limiter_rate", Help: "Current rate of the shared limiter, requests/second."}, l.Rate))
}

// WatchInFlight exports the number of messages held (received, not yet settled).
func (m *Metrics) WatchInFlight(f func() int) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace,
		Name: "sqs_messages_in_flight", Help: "Messages received and not yet settled."},
		func() float64 { return float64(f()) }))
}

func (m *Metrics) sqsCall(op string, err error) {
	if m == nil {
		return
	}
	m.sqsCalls.WithLabelValues(op).Inc()
	if err != nil {
		m.sqsErrors.WithLabelValues(op, sqsErrorCode(err)).Inc()
	}
}

func (m *Metrics) sqsEntryError(op, code string) {
	if m == nil {
		return
	}
	m.sqsErrors.WithLabelValues(op, code).Inc()
}

func (m *Metrics) settled(action string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.sqsEntries.WithLabelValues(action).Add(float64(n))
}

func (m *Metrics) dlqMove() {
	if m != nil {
		m.dlqMoves.Inc()
	}
}

func (m *Metrics) receivedN(n int) {
	if m != nil {
		m.received.Add(float64(n))
	}
}

// Health is what /healthz and /readyz report.
type Health struct {
	// Ready returns nil when the process should get work (queue mode: the first receive
	// succeeded, receives are not failing repeatedly, not stopping).
	Ready func() error
}

// Handler serves /metrics, /healthz (200 while the process runs) and /readyz.
func (m *Metrics) Handler(h Health) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if h.Ready != nil {
			if err := h.Ready(); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// MetricsServer is a running /metrics listener.
type MetricsServer struct {
	Addr string // actual address (useful with port 0)
	srv  *http.Server
	done chan struct{}
}

// ServeMetrics listens on addr and serves h until Close.
func ServeMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (*MetricsServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &MetricsServer{Addr: ln.Addr().String(), done: make(chan struct{}),
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && log != nil {
			log.Error("metrics server", "error", err)
		}
	}()
	return s, nil
}

// Close stops the server, letting a scrape in progress finish within ctx.
func (s *MetricsServer) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

// RunningReady is /readyz for a CSV campaign: ready while running, not once stopping.
func RunningReady(stop context.Context) func() error {
	return func() error {
		if stop.Err() != nil {
			return errors.New("stopping")
		}
		return nil
	}
}
