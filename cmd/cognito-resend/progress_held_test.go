package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// The progress line names the users waiting on other campaigns' claims and the holder
// waited on longest, while any wait; nothing once none does.
func TestProgressNamesHeldUsers(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	clk := clockwork.NewFakeClock()
	// Mode none: no ticker goroutine; the test writes the lines itself (logLine).
	p := &progress{mode: "none", log: slog.New(slog.NewJSONHandler(&buf, nil)), interval: time.Second, clock: clk}
	p.Start(30, func() float64 { return 10 })
	until := time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC)
	p.Held(3, job.ClaimVerdict{Kind: job.Busy, At: until, Owner: "host/1/ab", Campaign: "spring"})
	p.logLine()
	p.Held(0, job.ClaimVerdict{})
	p.Observe(job.Result{Status: job.StatusSent}) // a row: the next line is not an idle one
	clk.Advance(time.Second)
	p.logLine()
	p.Finish()

	dec := json.NewDecoder(&buf)
	var first, second map[string]any
	require.NoError(t, dec.Decode(&first))
	require.NoError(t, dec.Decode(&second))
	require.EqualValues(t, 3, first["held_by_others"])
	require.Equal(t, "spring", first["oldest_holder_campaign"])
	require.Equal(t, "host/1/ab", first["oldest_holder_replica"])
	require.Equal(t, "2026-12-05T01:02:03Z", first["oldest_holder_lease_until"])
	require.NotContains(t, second, "held_by_others")
}
