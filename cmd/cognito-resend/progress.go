package main

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/cognito-resend/cognito-resend/worker"
)

// progress reports a campaign's advance: a bar on a terminal, a structured log line
// every interval otherwise; never both, and never on the report's stream.
type progress struct {
	mu      sync.Mutex
	total   int // -1 unknown
	done    int
	failed  int
	started time.Time
	lim     *worker.Limiter
	bar     *progressbar.ProgressBar
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newProgress(mode string, out io.Writer, terminal bool, total int, lim *worker.Limiter, log *slog.Logger, interval time.Duration) *progress {
	p := &progress{total: total, started: time.Now(), lim: lim, stop: make(chan struct{})}
	if mode == "auto" {
		mode = "log"
		if terminal {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(out),
			progressbar.OptionSetDescription("resending"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	case "log":
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-p.stop:
					return
				case <-t.C:
					p.log(log)
				}
			}
		}()
	}
	return p
}

func (p *progress) log(log *slog.Logger) {
	p.mu.Lock()
	done, failed, total := p.done, p.failed, p.total
	p.mu.Unlock()
	elapsed := time.Since(p.started)
	rate := float64(done) / max(elapsed.Seconds(), 1e-9)
	attrs := []any{"done", done, "failed", failed, "rows_per_s", fmt.Sprintf("%.1f", rate),
		"limiter_rate", fmt.Sprintf("%.1f", p.lim.Rate())}
	if total >= 0 {
		attrs = append(attrs, "total", total)
		if rate > 0 {
			attrs = append(attrs, "eta", (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String())
		}
	}
	log.Info("progress", attrs...)
}

// observe is the engine's OnResult hook.
func (p *progress) observe(r worker.Result) {
	p.mu.Lock()
	p.done++
	if r.Status == worker.StatusFailed {
		p.failed++
	}
	failed := p.failed
	p.mu.Unlock()
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("resending (%.1f/s, %d failed)", p.lim.Rate(), failed))
		_ = p.bar.Add(1)
	}
}

func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
