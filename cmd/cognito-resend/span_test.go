package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/campaign"
)

func TestSpanReadsInDaysAndHours(t *testing.T) {
	require.Equal(t, "59m59s", span(time.Hour-time.Second))
	require.Equal(t, "1h00m", span(time.Hour))
	require.Equal(t, "5h20m", span(5*time.Hour+20*time.Minute+10*time.Second))
	require.Equal(t, "23h59m", span(24*time.Hour-31*time.Second))
	require.Equal(t, "2d 7h", span(55*time.Hour+10*time.Minute))
	// 10 000 000 users at 50/s: 2.3 days.
	require.Equal(t, "2d 8h", span(eta(10_000_000, 50))) // 55.6 h
}

// TestPrintPlan: what the dry run and the prompt say of a campaign under --daily-budget.
func TestPrintPlan(t *testing.T) {
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	printPlan(&b, &campaign.BudgetPlan{Limit: 40, Spent: 0, Next: start.AddDate(0, 0, 1), Windows: 1, Last: start,
		Reset: "00:00 UTC"}, "")
	require.Equal(t, "daily budget: 40 a window from 00:00 UTC, 0 spent in this one: all in this window; each run that "+
		"spends it exits 4, --resume continues in the next window\n", b.String())
	b.Reset()
	printPlan(&b, &campaign.BudgetPlan{Limit: 40, Spent: 40, Next: start.AddDate(0, 0, 1), Windows: 250,
		Last: start.AddDate(0, 0, 250), Reset: "00:00 UTC"}, "budget:      ")
	require.Contains(t, b.String(), "budget:      40 a window from 00:00 UTC, 40 spent in this one: 250 windows (days), "+
		"the last opening 2027-08-12T00:00:00Z")
	b.Reset()
	printPlan(&b, nil, "")
	require.Empty(t, b.String(), "no --daily-budget: nothing")
}
