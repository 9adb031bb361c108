package main

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/cognito-resend/cognito-resend/worker/campaign"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// progress renders a campaign's advance: a bar on a terminal, a structured log line
// every interval otherwise; never both, and never on the report's stream.
type progress struct {
	mode     string // auto, bar, log, none
	out      io.Writer
	terminal bool
	log      *slog.Logger
	interval time.Duration
	clock    clock.Clock

	mu      sync.Mutex
	total   int // -1 unknown
	done    int
	failed  int
	started time.Time
	rate    func() float64
	bar     *progressbar.ProgressBar
	stop    chan struct{}
	wg      sync.WaitGroup
}

var _ campaign.Progress = (*progress)(nil)

// Start begins rendering once the campaign knows its total and its limiter.
func (p *progress) Start(total int, rate func() float64) {
	p.total, p.rate, p.started, p.stop = total, rate, p.clock.Now(), make(chan struct{})
	mode := p.mode
	if mode == "auto" {
		mode = "log"
		if p.terminal {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.out),
			progressbar.OptionSetDescription("resending"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	case "log":
		t := p.clock.NewTicker(p.interval)
		p.wg.Go(func() {
			defer t.Stop()
			for {
				select {
				case <-p.stop:
					return
				case <-t.Chan():
					p.logLine()
				}
			}
		})
	}
}

func (p *progress) logLine() {
	p.mu.Lock()
	done, failed, total := p.done, p.failed, p.total
	p.mu.Unlock()
	p.log.Info("progress", progressAttrs(done, failed, total, p.clock.Since(p.started), p.rate())...)
}

// progressAttrs are a progress line's attributes. With a known total: the total, the
// percent done and, once rows are coming, the ETA at the rows/s so far.
func progressAttrs(done, failed, total int, elapsed time.Duration, limiterRate float64) []any {
	rate := float64(done) / max(elapsed.Seconds(), 1e-9)
	attrs := []any{"done", done, "failed", failed, "rows_per_s", fmt.Sprintf("%.1f", rate),
		"limiter_rate", fmt.Sprintf("%.1f", limiterRate)}
	if total < 0 {
		return attrs
	}
	percent := 100.0
	if total > 0 {
		percent = 100 * float64(min(done, total)) / float64(total)
	}
	attrs = append(attrs, "total", total, "percent", fmt.Sprintf("%.1f", percent))
	if left := max(total-done, 0); rate > 0 { // none before the first row (an outage: no rows at all)
		attrs = append(attrs, "eta", eta(left, rate).String())
	}
	return attrs
}

// Observe counts one recorded row.
func (p *progress) Observe(r job.Result) {
	p.mu.Lock()
	p.done++
	if r.Status == job.StatusFailed {
		p.failed++
	}
	failed := p.failed
	p.mu.Unlock()
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("resending (%.1f/s, %d failed)", p.rate(), failed))
		_ = p.bar.Add(1)
	}
}

// Finish stops rendering.
func (p *progress) Finish() {
	close(p.stop)
	p.wg.Wait()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
