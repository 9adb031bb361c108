package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Issue 20 point 10: an idle queue worker does not log progress every interval for
// ever, and rows_per_s is the rate since the last line, not a lifetime average.
func TestProgressLogIdleAndRecentRate(t *testing.T) {
	t.Parallel()
	clk := clockwork.NewFakeClockAt(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	var out bytes.Buffer
	p := &progress{mode: "none", log: slog.New(slog.NewJSONHandler(&out, nil)), interval: 10 * time.Second, clock: clk}
	p.Start(-1, func() float64 { return 5 })
	lines := func() []map[string]any {
		var ls []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if l == "" {
				continue
			}
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(l), &m))
			ls = append(ls, m)
		}
		return ls
	}
	rows := func(n int) {
		for range n {
			p.Observe(job.Result{Status: job.StatusSent})
		}
	}
	tick := func() { clk.Advance(10 * time.Second); p.logLine() }

	rows(10)
	tick()
	tick() // no row since: one line says so
	tick() // still none: quiet
	tick()
	rows(60)
	tick()
	ls := lines()
	require.Len(t, ls, 3, out.String())
	require.Equal(t, "1.0", ls[0]["rows_per_s"])
	require.Equal(t, "0.0", ls[1]["rows_per_s"], "the run went idle")
	require.Equal(t, "2.0", ls[2]["rows_per_s"], "60 rows over the 30 s since the last line, not 70 over 50 s")
	require.EqualValues(t, 70, ls[2]["done"])
}
