package metrics

import (
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const metricsNamespace = "cognito_resend"

// callBuckets are the latency buckets of a Cognito call, in seconds.
var callBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Metrics holds the Prometheus metrics of one run, in its own registry (never the
// global one). A nil *Metrics is valid and records nothing.
type Metrics struct {
	Registry *prometheus.Registry

	jobs       *prometheus.CounterVec
	calls      *prometheus.CounterVec
	throttles  prometheus.Counter
	latency    prometheus.Histogram
	verify     *prometheus.CounterVec
	verifyLat  prometheus.Histogram
	sqsCalls   *prometheus.CounterVec
	sqsErrors  *prometheus.CounterVec
	sqsEntries *prometheus.CounterVec
	dlqMoves   prometheus.Counter
	received   prometheus.Counter
	trips      prometheus.Counter

	ledgerCalls  *prometheus.CounterVec
	ledgerErrors *prometheus.CounterVec

	invitations invitations // --invitations (invitations.go)
}

// New registers the run's metrics in a fresh registry (with Go and process
// collectors).
func New() *Metrics {
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
			Buckets: callBuckets}),
		verify: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "verify_calls_total", Help: "AdminGetUser attempts of --verify-users, by outcome class and error code (\"\" = success)."},
			[]string{"class", "code"}),
		verifyLat: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: metricsNamespace,
			Name: "verify_call_duration_seconds", Help: "AdminGetUser call latency (--verify-users).",
			Buckets: callBuckets}),
		sqsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "sqs_requests_total", Help: "SQS requests, by operation."}, []string{"op"}),
		sqsErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "sqs_errors_total", Help: "Failed SQS requests and failed batch entries, by operation and error code."},
			[]string{"op", "code"}),
		sqsEntries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "sqs_messages_settled_total", Help: "Messages settled at the queue, by action (delete, retry_later, limit_later, release, defer, extend)."},
			[]string{"action"}),
		dlqMoves: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "sqs_dlq_moves_total", Help: "Poison messages copied to the dead-letter queue."}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "sqs_messages_received_total", Help: "Messages received from the queue."}),
		trips: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "breaker_trips_total", Help: "Times the fault breaker paused every call (5xx, timeouts, connection errors in a row)."}),
		ledgerCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "ledger_requests_total", Help: "Calls to the DynamoDB ledger table, by operation."}, []string{"op"}),
		ledgerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "ledger_errors_total", Help: "Failed calls to the DynamoDB ledger table, by operation and error code."},
			[]string{"op", "code"}),
	}
	reg.MustRegister(m.jobs, m.calls, m.throttles, m.latency, m.verify, m.verifyLat, m.sqsCalls, m.sqsErrors,
		m.sqsEntries, m.dlqMoves, m.received, m.trips, m.ledgerCalls, m.ledgerErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, s := range job.Statuses {
		m.jobs.WithLabelValues(string(s))
	}
	m.invitations = newInvitations(reg)
	return m
}

// ObserveResult counts one recorded result (Engine.OnResult).
func (m *Metrics) ObserveResult(r job.Result) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(string(r.Status)).Inc()
	if r.Message == job.MessageInvitation {
		m.invitations.jobs.WithLabelValues(string(r.Status)).Inc()
	}
}

// Call is what the metrics read of one Cognito call's outcome (cognito.Outcome): its
// class, its code ("" when it succeeded), whether it was throttled.
type Call interface {
	Observed() (class job.ErrorClass, code string, throttle bool)
}

// ObserveAttempt counts one Cognito call (Resender.OnAttempt).
func (m *Metrics) ObserveAttempt(o Call, latency time.Duration) {
	if m == nil {
		return
	}
	class, code, throttle := o.Observed()
	m.calls.WithLabelValues(class.String(), code).Inc()
	if throttle {
		m.throttles.Inc()
	}
	m.latency.Observe(latency.Seconds())
}

// ObserveVerify counts one AdminGetUser call of --verify-users (Verifier.OnAttempt).
func (m *Metrics) ObserveVerify(o Call, latency time.Duration) {
	if m == nil {
		return
	}
	class, code, _ := o.Observed()
	m.verify.WithLabelValues(class.String(), code).Inc()
	m.verifyLat.Observe(latency.Seconds())
}

// WatchVerifyRate exports the verify limiter's current rate (--verify-rate).
func (m *Metrics) WatchVerifyRate(rate func() float64) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace,
		Name: "verify_limiter_rate", Help: "Current rate of the --verify-users limiter (AdminGetUser), requests/second."}, rate))
}

// WatchRate exports the shared limiter's current rate (*pacing.Limiter.Rate).
func (m *Metrics) WatchRate(rate func() float64) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace,
		Name: "limiter_rate", Help: "Current rate of the shared limiter, requests/second."}, rate))
}

// WatchBreaker exports the fault breaker's state (*pacing.Breaker.Open) as
// breaker_open: 1 from a trip until an answer closes it, else 0.
func (m *Metrics) WatchBreaker(open func() bool) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace,
		Name: "breaker_open", Help: "1 while the fault breaker is open (tripped, not yet closed by an answer), else 0."},
		func() float64 {
			if open() {
				return 1
			}
			return 0
		}))
}

// BreakerTripped counts one trip of the fault breaker (pacing.Breaker.OnTrip).
func (m *Metrics) BreakerTripped(time.Duration) {
	if m != nil {
		m.trips.Inc()
	}
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

// SQSCall counts one SQS request; errCode is "" when it succeeded.
func (m *Metrics) SQSCall(op, errCode string) {
	if m != nil {
		countCall(m.sqsCalls, m.sqsErrors, op, errCode)
	}
}

// countCall counts a request by operation, and its failure by operation and code.
func countCall(calls, errs *prometheus.CounterVec, op, errCode string) {
	calls.WithLabelValues(op).Inc()
	if errCode != "" {
		errs.WithLabelValues(op, errCode).Inc()
	}
}

// SQSEntryError counts one failed entry of a batch call.
func (m *Metrics) SQSEntryError(op, code string) {
	if m == nil {
		return
	}
	m.sqsErrors.WithLabelValues(op, code).Inc()
}

// Settled counts n messages settled at the queue with action.
func (m *Metrics) Settled(action string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.sqsEntries.WithLabelValues(action).Add(float64(n))
}

// DLQMove counts one poison message copied to the dead-letter queue.
func (m *Metrics) DLQMove() {
	if m != nil {
		m.dlqMoves.Inc()
	}
}

// Received counts n messages received.
func (m *Metrics) Received(n int) {
	if m != nil {
		m.received.Add(float64(n))
	}
}

// LedgerCall counts one call to the ledger table (op: claim, get, renew, finish, …);
// errCode is "" when it succeeded (a failed condition is an answer, not an error).
func (m *Metrics) LedgerCall(op, errCode string) {
	if m != nil {
		countCall(m.ledgerCalls, m.ledgerErrors, op, errCode)
	}
}

// WatchFleet exports this replica's view of its --fleet-rate fleet (*fleet.Member),
// labelled with the fleet's name (--fleet-name): the replicas alive, the fleet's rate,
// this replica's share of it, its own --fleet-rate (configured) and whether the replicas
// alive were given different ones (mismatch: the fleet then paces at the lowest).
func (m *Metrics) WatchFleet(name string, alive func() int, budget, share func() float64, configured float64, mismatch func() bool) {
	if m == nil {
		return
	}
	fleet := prometheus.Labels{"fleet": name}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, ConstLabels: fleet,
			Name: "fleet_rate_configured", Help: "This replica's own --fleet-rate, requests/second; above fleet_rate, another replica's lower one holds the fleet."},
			func() float64 { return configured }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, ConstLabels: fleet,
			Name: "fleet_rate_mismatch", Help: "1 when the replicas alive in the fleet were given different --fleet-rate values (the fleet paces at the lowest; the WARN log names its replica), else 0."},
			func() float64 {
				if mismatch() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, ConstLabels: fleet,
			Name: "fleet_replicas", Help: "Replicas alive in this replica's --fleet-rate fleet at its last read of the table, itself included."},
			func() float64 { return float64(alive()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, ConstLabels: fleet,
			Name: "fleet_rate", Help: "The fleet's rate, requests/second: the lowest --fleet-rate of the replicas alive."}, budget),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, ConstLabels: fleet,
			Name: "fleet_share", Help: "This replica's share of the fleet rate, requests/second: its limiter's ceiling (adaptive cuts apply below it)."}, share))
}

// WatchHealth exports /readyz and /healthz as gauges, read at each scrape: ready and
// live (1 or 0), for alerts that say why a replica takes no work (its /readyz body
// says the reason).
func (m *Metrics) WatchHealth(h Health) {
	if m == nil {
		return
	}
	gauge := func(check func() error) func() float64 {
		return func() float64 {
			if check != nil && check() != nil {
				return 0
			}
			return 1
		}
	}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace,
			Name: "ready", Help: "1 while /readyz is 200: the worker takes work (queue mode: it receives), else 0."}, gauge(h.Ready)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace,
			Name: "live", Help: "1 while /healthz is 200: the process can make progress, else 0 (queue mode: its queue is gone; it exits 3)."}, gauge(h.Live)))
}

// WatchOutage exports how long Cognito has failed every call (seconds; 0 while it
// answers) as cognito_outage_seconds, for an alert that fires within --max-outage.
func (m *Metrics) WatchOutage(seconds func() float64) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace,
		Name: "cognito_outage_seconds", Help: "Seconds since the first fault (connection error, timeout, 5xx) of an outage: Cognito has answered no call since; 0 while it answers."},
		seconds))
}

// WatchBudget exports the daily send budget (--daily-budget): daily_budget (0: none),
// daily_budget_spent (the current window's sends, as last seen by this process: with a
// ledger table, the fleet's count at this replica's last take), and
// daily_budget_next_window_timestamp_seconds (when the next window opens: a queue worker
// that paused for a spent budget receives again then).
func (m *Metrics) WatchBudget(limit int, spent func() int, next func() time.Time) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "daily_budget",
			Help: "Messages this campaign may send per window (--daily-budget; 0: no budget)."},
			func() float64 { return float64(limit) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "daily_budget_spent",
			Help: "Sends of the current window, as last seen by this process."},
			func() float64 { return float64(spent()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "daily_budget_next_window_timestamp_seconds",
			Help: "When the next budget window opens (--budget-reset), Unix seconds."},
			func() float64 { return float64(next().Unix()) }),
	)
}
