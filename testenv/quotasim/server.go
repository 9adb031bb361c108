package quotasim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Server is a running simulator on a loopback listener.
type Server struct {
	// URL is the base URL, e.g. "http://127.0.0.1:43210"; use it as the
	// Cognito endpoint and for the /__sim/ control endpoints.
	URL string
	// Sim is the handler, for direct access to Stats, Reset and SetConfig.
	Sim *Sim

	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	err  error
}

// Start listens on 127.0.0.1:0 and serves a new Sim until ctx ends or Close.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	return StartAddr(ctx, "127.0.0.1:0", cfg)
}

// StartAddr is Start on a given address, which must be a loopback IP
// ("127.0.0.1:8080", "[::1]:0") or "localhost:port".
func StartAddr(ctx context.Context, addr string, cfg Config) (*Server, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	sim, err := New(cfg)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL: "http://" + ln.Addr().String(),
		Sim: sim,
		srv: &http.Server{
			Handler:           sim,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
		},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// CheckLoopback refuses addresses that are not on the loopback interface.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q: quotasim listens on loopback only (127.0.0.1, ::1, localhost)", addr)
	}
	return nil
}

// checkLoopbackURL refuses base URLs whose host is not on the loopback interface.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("url %q: want http://127.0.0.1:PORT", raw)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return CheckLoopback(net.JoinHostPort(u.Hostname(), port))
}

// Close stops the server at once: held requests are released and open
// connections closed. It waits for the serve loop to end.
func (s *Server) Close() error {
	s.Sim.Close()
	err := s.srv.Close()
	<-s.done
	if s.err != nil {
		return s.err
	}
	return err
}

// Shutdown stops accepting connections and waits for active requests (held
// timeouts are released first) until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Sim.Close()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// StartT starts a simulator for a test and closes it in t.Cleanup.
func StartT(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("quotasim: start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// ---- client for the control endpoints ----

var controlClient = &http.Client{Timeout: 30 * time.Second}

// FetchStats gets GET {baseURL}/__sim/stats.
func FetchStats(ctx context.Context, baseURL string) (Stats, error) {
	var st Stats
	err := doJSON(ctx, http.MethodGet, baseURL+controlPrefix+"stats", nil, &st)
	return st, err
}

// FetchConfig gets GET {baseURL}/__sim/config.
func FetchConfig(ctx context.Context, baseURL string) (Config, error) {
	var cfg Config
	err := doJSON(ctx, http.MethodGet, baseURL+controlPrefix+"config", nil, &cfg)
	return cfg, err
}

// PutConfig replaces the whole configuration (every field is sent, so an
// empty Upstream switches to instant mode). To change a few fields, use
// UpdateConfig or FetchConfig, modify, PutConfig.
func PutConfig(ctx context.Context, baseURL string, cfg Config) error {
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return doJSON(ctx, http.MethodPut, baseURL+controlPrefix+"config", b, nil)
}

// UpdateConfig fetches the configuration, applies fn and puts it back.
func UpdateConfig(ctx context.Context, baseURL string, fn func(*Config)) error {
	cfg, err := FetchConfig(ctx, baseURL)
	if err != nil {
		return err
	}
	fn(&cfg)
	return PutConfig(ctx, baseURL, cfg)
}

// ResetStats calls POST {baseURL}/__sim/reset.
func ResetStats(ctx context.Context, baseURL string) error {
	return doJSON(ctx, http.MethodPost, baseURL+controlPrefix+"reset", nil, nil)
}

func doJSON(ctx context.Context, method, url string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := controlClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("quotasim: %s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("quotasim: %s %s: decode: %w", method, url, err)
		}
	}
	return nil
}
