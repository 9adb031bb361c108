package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

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

// Server is a running /metrics listener.
type Server struct {
	Addr string // actual address (useful with port 0)
	srv  *http.Server
	done chan struct{}
}

// Serve listens on addr and serves h until Close.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), done: make(chan struct{}),
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
func (s *Server) Close(ctx context.Context) error {
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
