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
	notes    *notes // where the stop notice goes

	mu      sync.Mutex
	total   int // -1 unknown
	done    int
	failed  int
	started time.Time
	rate    func() float64
	bar     *progressbar.ProgressBar
	stop    chan struct{}
	wg      sync.WaitGroup

	// The log line's own (its goroutine's): the rows and time of the last line, and
	// whether it said the run was idle.
	lastDone int
	lastAt   time.Time
	idle     bool

	held heldState // users waiting on other owners' claims (progress_held.go)
}

var _ campaign.Progress = (*progress)(nil)

// Start begins rendering once the campaign knows its total and its limiter.
func (p *progress) Start(total int, rate func() float64) {
	p.total, p.rate, p.started, p.stop = total, rate, p.clock.Now(), make(chan struct{})
	p.lastAt = p.started
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

// logLine logs the progress since the last line: rows_per_s is the rate over that
// interval, not since the start (a queue worker runs for days). A run with no new row
// says so in one line (rows_per_s 0), then stays quiet until rows come again.
func (p *progress) logLine() {
	now := p.clock.Now()
	p.mu.Lock()
	done, failed, total := p.done, p.failed, p.total
	p.mu.Unlock()
	moved := done != p.lastDone
	if !moved && p.idle {
		return
	}
	rate := float64(done-p.lastDone) / max(now.Sub(p.lastAt).Seconds(), 1e-9)
	p.lastDone, p.lastAt, p.idle = done, now, !moved
	p.log.Info("progress", append(progressAttrs(done, failed, total, rate, p.rate()), p.held.attrs()...)...)
}

// progressAttrs are a progress line's attributes; rate is the recent rows/s. With a
// known total: the total, the percent done and, once rows are coming, the ETA at that
// rate.
func progressAttrs(done, failed, total int, rate, limiterRate float64) []any {
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
	if left := max(total-done, 0); rate > 0 { // none while no row comes (an outage)
		attrs = append(attrs, "eta", span(eta(left, rate)))
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
		desc := fmt.Sprintf("resending (%.1f/s, %d failed", p.rate(), failed)
		if n := p.held.count(); n > 0 {
			desc += fmt.Sprintf(", %d held by other campaigns", n)
		}
		p.bar.Describe(desc + ")")
		_ = p.bar.Add(1)
	}
}

// Stopping says at once what the first signal does: calls in flight finish, for up to
// wait, unless a second signal aborts them.
func (p *progress) Stopping(inFlight int, wait time.Duration) {
	if p.bar != nil {
		_ = p.bar.Clear() // the notice on a line of its own
	}
	p.notes.say(slog.LevelWarn, "stopping", stoppingNotice(inFlight, wait))
}

// stoppingNotice is the first signal's line.
func stoppingNotice(inFlight int, wait time.Duration) string {
	if inFlight == 0 {
		return "stopping: no call in flight; no new call starts; writing the report"
	}
	calls := "calls"
	if inFlight == 1 {
		calls = "call"
	}
	return fmt.Sprintf("stopping: %d %s in flight, waiting up to %s; press Ctrl-C again to abort them "+
		"(no new call starts; --resume then reports their users unknown)", inFlight, calls, wait)
}

// Finish stops rendering.
func (p *progress) Finish() {
	close(p.stop)
	p.wg.Wait()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
