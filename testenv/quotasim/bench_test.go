package quotasim

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkInstant measures instant-mode throughput through real loopback
// HTTP/1.1 keep-alive connections (client and server in this process).
//
//	go test -run '^$' -bench Instant -cpu 2 ./testenv/quotasim/
func BenchmarkInstant(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"unlimited", Config{}},
		// A bucket that never runs dry still takes its lock on every call.
		{"bucket", Config{Rate: 1e9, Burst: 1e9}},
		{"faults-armed", Config{P5xx: 1e-9, LatencyJitter: 1}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv := StartT(b, tc.cfg)
			client := &http.Client{Transport: &http.Transport{
				MaxIdleConns:        512,
				MaxIdleConnsPerHost: 512,
				IdleConnTimeout:     time.Minute,
				DisableCompression:  true,
			}}
			defer client.CloseIdleConnections()
			body := []byte(`{"ClientId":"client123","Username":"user-000042@example.com","ClientMetadata":{"campaign":"c1"}}`)
			b.SetParallelism(8) // 8 × GOMAXPROCS client goroutines
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				rd := bytes.NewReader(body)
				for pb.Next() {
					rd.Reset(body)
					req, err := http.NewRequest(http.MethodPost, srv.URL+"/", rd)
					if err != nil {
						b.Error(err)
						return
					}
					req.Header["Content-Type"] = []string{amzJSON}
					req.Header["X-Amz-Target"] = []string{"AWSCognitoIdentityProviderService.ResendConfirmationCode"}
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			if st := srv.Sim.Stats(); st.Successes != int64(b.N) {
				b.Errorf("successes %d, want %d", st.Successes, b.N)
			}
		})
	}
}

// BenchmarkServeHTTPInstant measures the handler alone (no network).
func BenchmarkServeHTTPInstant(b *testing.B) {
	sim, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"ClientId":"client123","Username":"user-000042@example.com"}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		rd := bytes.NewReader(body)
		req, _ := http.NewRequest(http.MethodPost, "http://sim/", rd)
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.ResendConfirmationCode")
		for pb.Next() {
			rd.Reset(body)
			req.Body = io.NopCloser(rd)
			clear(w.h)
			sim.ServeHTTP(w, req)
		}
	})
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
