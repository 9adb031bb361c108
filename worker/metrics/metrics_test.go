package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/metrics"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

func TestNilMetricsRecordNothing(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.ObserveResult(job.Result{Status: job.StatusSent})
	m.ObserveAttempt(cognito.Classify(nil), time.Millisecond)
	m.SQSCall("ReceiveMessage", "Timeout")
	m.SQSEntryError("DeleteMessageBatch", "InternalError")
	m.Settled("delete", 3)
	m.DLQMove()
	m.Received(2)
	m.LedgerCall("claim", "")
	m.WatchRate(func() float64 { return 1 })
	m.WatchInFlight(func() int { return 1 })
	m.ObserveVerify(cognito.Classify(nil), time.Millisecond)
	m.WatchVerifyRate(func() float64 { return 1 })
	m.WatchBreaker(func() bool { return true })
	m.BreakerTripped(time.Second)
	m.WatchHealth(metrics.Health{})
	m.WatchOutage(func() float64 { return 1 })
}

// The breaker's state and trips, as the dashboard and the alert on branch release query
// them, fed by a real pacing.Breaker.
func TestBreakerMetrics(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	clk := clockwork.NewFakeClock()
	b := &pacing.Breaker{Limiter: pacing.NewLimiter(pacing.LimiterConfig{Rate: 0, Clock: clk}), Threshold: 2, OnTrip: m.BreakerTripped, Clock: clk}
	m.WatchBreaker(b.Open)
	scrape := func() string {
		rec := httptest.NewRecorder()
		m.Handler(metrics.Health{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		return rec.Body.String()
	}
	body := scrape()
	require.Contains(t, body, "cognito_resend_breaker_open 0")
	require.Contains(t, body, "cognito_resend_breaker_trips_total 0")
	fault := cognito.Classify(context.DeadlineExceeded)
	// Two faults trip it; the next two arrive during its pause (calls made before it)
	// and don't count toward another trip.
	for range 4 {
		b.Observe(fault.Observation())
	}
	body = scrape()
	require.Contains(t, body, "cognito_resend_breaker_open 1")
	require.Contains(t, body, "cognito_resend_breaker_trips_total 1")
	ok := cognito.Classify(nil)
	b.Observe(ok.Observation())
	body = scrape()
	require.Contains(t, body, "cognito_resend_breaker_open 0")
	require.Contains(t, body, "cognito_resend_breaker_trips_total 1")
}

func TestHandler(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.ObserveResult(job.Result{Status: job.StatusUnknown})
	m.SQSCall("ReceiveMessage", "Timeout")
	m.ObserveVerify(cognito.Outcome{Class: job.ClassPerUser, Code: "UserNotFoundException"}, time.Millisecond)
	m.ObserveVerify(cognito.Outcome{Class: job.ClassNone, Code: "ignored"}, time.Millisecond)
	m.WatchVerifyRate(func() float64 { return 7 })
	m.ObserveResult(job.Result{Status: job.StatusRecentlySent})
	m.LedgerCall("claim", "")
	m.LedgerCall("finish", "ProvisionedThroughputExceededException")
	var receiving atomic.Bool
	srv := httptest.NewServer(m.Handler(metrics.Health{Ready: func() error {
		if !receiving.Load() {
			return errors.New("no successful receive yet")
		}
		return nil
	}}))
	t.Cleanup(srv.Close)
	get := func(path string) (int, string) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, body := get("/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `cognito_resend_jobs_total{status="unknown"} 1`)
	require.Contains(t, body, `cognito_resend_jobs_total{status="sent"} 0`, "every status is exported from the start")
	require.Contains(t, body, `cognito_resend_sqs_errors_total{code="Timeout",op="ReceiveMessage"} 1`)
	require.Contains(t, body, `cognito_resend_verify_calls_total{class="per_user",code="UserNotFoundException"} 1`)
	require.Contains(t, body, `cognito_resend_verify_calls_total{class="none",code=""} 1`)
	require.Contains(t, body, `cognito_resend_verify_call_duration_seconds_count 2`)
	require.Contains(t, body, `cognito_resend_verify_limiter_rate 7`)
	for _, st := range []string{"disabled", "not_eligible"} {
		require.Contains(t, body, `cognito_resend_jobs_total{status="`+st+`"} 0`, "the new statuses are labels from the start")
	}
	require.Contains(t, body, `cognito_resend_jobs_total{status="recently_sent"} 1`)
	require.Contains(t, body, `cognito_resend_ledger_requests_total{op="claim"} 1`)
	require.Contains(t, body, `cognito_resend_ledger_errors_total{code="ProvisionedThroughputExceededException",op="finish"} 1`)
	require.NotContains(t, body, `cognito_resend_ledger_errors_total{code="",op="claim"}`, "a success is no error")
	code, _ = get("/healthz")
	require.Equal(t, http.StatusOK, code)
	code, body = get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "no successful receive yet")
	receiving.Store(true)
	code, _ = get("/readyz")
	require.Equal(t, http.StatusOK, code)
}

// /healthz is liveness ("can this process make progress"), /readyz readiness; both are
// gauges too, read at each scrape, and cognito_outage_seconds says how long Cognito has
// answered nothing.
func TestHealthAndOutageGauges(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	var gone, paused atomic.Bool
	h := metrics.Health{
		Live: func() error {
			if gone.Load() {
				return errors.New("the queue does not exist any more")
			}
			return nil
		},
		Ready: func() error {
			if paused.Load() {
				return errors.New("not receiving: Cognito unreachable")
			}
			return nil
		},
	}
	m.WatchHealth(h)
	var outage atomic.Int64
	m.WatchOutage(func() float64 { return float64(outage.Load()) })
	handler := m.Handler(h)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	_, body := get("/metrics")
	require.Contains(t, body, "cognito_resend_ready 1")
	require.Contains(t, body, "cognito_resend_live 1")
	require.Contains(t, body, "cognito_resend_cognito_outage_seconds 0")

	paused.Store(true)
	outage.Store(42)
	code, body := get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "not ready: not receiving: Cognito unreachable\n", body)
	code, _ = get("/healthz")
	require.Equal(t, http.StatusOK, code, "an outage is no reason to restart the process")
	_, body = get("/metrics")
	require.Contains(t, body, "cognito_resend_ready 0")
	require.Contains(t, body, "cognito_resend_live 1")
	require.Contains(t, body, "cognito_resend_cognito_outage_seconds 42")

	gone.Store(true)
	code, body = get("/healthz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "not live: the queue does not exist any more\n", body)
	_, body = get("/metrics")
	require.Contains(t, body, "cognito_resend_live 0")
}
