package campaign

import (
	"context"

	"github.com/cognito-resend/cognito-resend/worker/metrics"
)

// serveMetrics starts --metrics-addr: /metrics, /healthz (the source's liveness: a
// queue worker whose queue is gone is not) and /readyz (the source's readiness; a CSV
// campaign is ready while it runs), both also exported as gauges.
func (c *Campaign) serveMetrics(stop context.Context, m *metrics.Metrics, s *source) (*metrics.Server, error) {
	ready := metrics.RunningReady(stop)
	if srcReady := s.ready; srcReady != nil {
		running := ready
		ready = func() error {
			if err := running(); err != nil {
				return err
			}
			return srcReady()
		}
	}
	health := metrics.Health{Ready: ready, Live: s.live}
	m.WatchHealth(health)
	ln, err := c.takeMetricsListener(stop) // bound by Prepare
	if err != nil {
		return nil, err
	}
	srv := metrics.ServeOn(ln, m.Handler(health), c.log)
	c.log.Info("metrics listening", "addr", srv.Addr)
	return srv, nil
}
