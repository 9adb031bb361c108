package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/campaign"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// The exit-4 summary said "(in 0s" of a window 6 s away (rounded to the minute, down).
func TestSpentSummarySaysSecondsUnderAMinute(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 6, 23, 54, 300e6, time.UTC)
	for _, c := range []struct {
		next time.Time
		want string
	}{
		{now.Add(5700 * time.Millisecond), "(in 6s;"},
		{now.Add(59 * time.Second), "(in 59s;"},
		{now.Add(20*time.Hour + 42*time.Minute + 10*time.Second), "(in 20h42m;"},
	} {
		o := &campaign.Outcome{Summary: &engine.Summary{Finished: now, Counts: map[job.Status]int{}}, Total: -1, SendsLeft: -1,
			ReportPath: "r.csv", Budget: campaign.BudgetState{Limit: 3, Reset: "06:24 UTC"}}
		var out strings.Builder
		printSpent(&out, o, &budget.SpentError{Limit: 3, Spent: 3, Next: c.next}, 0)
		require.Contains(t, out.String(), "summary: the next window opens "+c.next.Format(time.RFC3339)+" "+c.want, out.String())
	}
}
