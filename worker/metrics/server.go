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
	// Live returns nil while this process can make progress (nil func: always): an error
	// means only a restart or an operator can help (queue mode: the queue was deleted;
	// the worker exits 3 soon after). An outage of Cognito is not one: the worker waits
	// it out without messages, unready.
	Live func() error
	// Ready returns nil when the process should get work (queue mode: the first receive
	// succeeded, receives are not failing repeatedly, Cognito answers, not stopping).
	Ready func() error
}

// Handler serves /metrics, /healthz (200 while Live) and /readyz (200 while Ready).
func (m *Metrics) Handler(h Health) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	mux.HandleFunc("GET /healthz", probeHandler(h.Live, "not live: "))
	mux.HandleFunc("GET /readyz", probeHandler(h.Ready, "not ready: "))
	return mux
}

// probeHandler answers 200 "ok" while check (nil: always) passes, else 503 with why.
func probeHandler(check func() error, prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if check != nil {
			if err := check(); err != nil {
				http.Error(w, prefix+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	}
}

// Server is a running /metrics listener.
type Server struct {
	Addr string // actual address (useful with port 0)
	srv  *http.Server
	done chan struct{}
}

// Serve listens on addr and serves h until Close.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	ln, err := Listen(ctx, addr)
	if err != nil {
		return nil, err
	}
	return ServeOn(ln, h, log), nil
}

// Listen binds addr: a campaign binds before it creates anything, so a busy port is a
// usage error that leaves no file behind, then serves on the listener (ServeOn).
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}

// ServeOn serves h on ln until Close.
func ServeOn(ln net.Listener, h http.Handler, log *slog.Logger) *Server {
	s := &Server{Addr: ln.Addr().String(), done: make(chan struct{}),
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && log != nil {
			log.Error("metrics server", "error", err)
		}
	}()
	return s
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
