package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// invitations are the metrics of --invitations (AdminCreateUser MessageAction=RESEND),
// beside the resend's: cognito_resend_jobs_total counts every row, these the invitation
// rows and calls on their own.
type invitations struct {
	jobs    *prometheus.CounterVec
	calls   *prometheus.CounterVec
	latency prometheus.Histogram
}

func newInvitations(reg *prometheus.Registry) invitations {
	i := invitations{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "invitation_jobs_total", Help: "Rows of invitations (--invitations) recorded in the report, by status."},
			[]string{"status"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "invitation_calls_total", Help: "AdminCreateUser RESEND attempts (--invitations), by outcome class and error code (\"\" = success)."},
			[]string{"class", "code"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: metricsNamespace,
			Name: "invitation_call_duration_seconds", Help: "AdminCreateUser RESEND call latency (--invitations).",
			Buckets: callBuckets}),
	}
	reg.MustRegister(i.jobs, i.calls, i.latency)
	for _, s := range job.Statuses {
		i.jobs.WithLabelValues(string(s))
	}
	// The series the throttle alert divides, served from the start (0 until a call).
	i.calls.WithLabelValues(job.ClassNone.String(), "")
	i.calls.WithLabelValues(job.ClassRetryable.String(), "TooManyRequestsException")
	return i
}

// ObserveInvitation counts one AdminCreateUser RESEND attempt (Inviter.OnAttempt). A
// throttle is invitation_calls_total{code="TooManyRequestsException"}, not
// cognito_throttles_total: that one and cognito_calls_total are the resend's (its
// quota, its throttle-ratio alert).
func (m *Metrics) ObserveInvitation(o Call, latency time.Duration) {
	if m == nil {
		return
	}
	class, code, _ := o.Observed()
	m.invitations.calls.WithLabelValues(class.String(), code).Inc()
	m.invitations.latency.Observe(latency.Seconds())
}

// WatchInvitationRate exports the invitation limiter's current rate (--invitation-rate).
func (m *Metrics) WatchInvitationRate(rate func() float64) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace,
		Name: "invitation_limiter_rate", Help: "Current rate of the --invitations limiter (AdminCreateUser), requests/second."}, rate))
}
