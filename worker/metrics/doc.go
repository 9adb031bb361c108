// Package metrics is what a run shows while it runs: Prometheus metrics in the run's own
// registry (jobs by status, Cognito calls, throttles, latency, the limiter's rate, the
// SQS consumer's calls and settlements) and the /metrics, /healthz and /readyz server.
//
//	resender ─ObserveAttempt─┐   SQS source ─SQSCall/Settled/…─┐
//	report writer ─ObserveResult─► Metrics ◄───────────────────┘ ──► GET /metrics
//
// A nil *Metrics records nothing, so a run without --metrics-addr pays nothing.
package metrics
