// Package metrics is what a run shows while it runs: Prometheus metrics in the run's own
// registry (jobs by status, Cognito calls, throttles, latency, the limiter's rate, the
// fault breaker's state and trips, the SQS consumer's calls and settlements) and the
// /metrics, /healthz and /readyz server. Gauges of other packages' state read it through
// a func (WatchRate, WatchBreaker), and the packages that count declare the small
// recorder they use (sqssource.Recorder, dynamoledger.Recorder), so they import neither
// this package nor a metrics library; a Cognito call's outcome is read through Call.
//
//	resender ─ObserveAttempt─┐   SQS source ─SQSCall/Settled/…─┐
//	report writer ─ObserveResult─► Metrics ◄───────────────────┘ ──► GET /metrics
//
// A nil *Metrics records nothing, so a run without --metrics-addr pays nothing.
package metrics
