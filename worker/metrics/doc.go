// Package metrics is what a run shows while it runs: Prometheus metrics in the run's own
// registry (jobs by status, Cognito calls, throttles, latency, the limiter's rate, the
// fault breaker's state and trips, the SQS consumer's calls and settlements) and the
// /metrics, /healthz and /readyz server. Gauges of other packages' state read it through
// a func (WatchRate, WatchBreaker), so those packages import no metrics library.
//
//	resender ─ObserveAttempt─┐   SQS source ─SQSCall/Settled/…─┐
//	report writer ─ObserveResult─► Metrics ◄───────────────────┘ ──► GET /metrics
//
// A nil *Metrics records nothing, so a run without --metrics-addr pays nothing.
package metrics
