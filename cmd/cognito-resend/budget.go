package main

import (
	"fmt"
	"io"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/campaign"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// printPlan says, before a campaign under --daily-budget, how many windows (days) it
// takes and when the last one opens.
func printPlan(w io.Writer, p *campaign.BudgetPlan, prefix string) {
	if p == nil {
		return
	}
	days := "all in this window"
	switch {
	case p.Windows == 0:
		days = "nothing to send"
	case p.Windows > 1 || p.Last.After(p.Next.AddDate(0, 0, -1)):
		days = fmt.Sprintf("%d windows (days), the last opening %s", p.Windows, p.Last.UTC().Format(time.RFC3339))
	}
	if prefix == "" {
		prefix = "daily budget: "
	}
	from := ""
	if p.From != "" && p.From != "--daily-budget" {
		from = " (" + p.From + ")"
	}
	if p.Limit <= 0 {
		fmt.Fprintf(w, "%snone: --daily-budget 0 sends without a daily limit%s\n", prefix, from)
		return
	}
	fmt.Fprintf(w, "%s%d a window from %s, %d spent in this one: %s; each run that spends it exits 4, "+
		"--resume continues in the next window%s\n", prefix, p.Limit, p.Reset, p.Spent, days, from)
	if p.Windows > absurdWindows {
		fmt.Fprintf(w, "%sWARNING: %d windows is more than a year of daily runs: raise --daily-budget, or split the "+
			"campaign; the rate's ETA does not apply, the windows are the ETA\n", prefix, p.Windows)
	}
}

// absurdWindows is the plan's length (days) past which it is surely a typo or a budget
// far too small for the campaign.
const absurdWindows = 365

// printSpent is the summary of a campaign stopped by a spent budget (exit 4): what was
// sent, what is left, when the next window opens and what to run then.
func printSpent(w io.Writer, o *campaign.Outcome, se *budget.SpentError) {
	now := o.Summary.Finished
	left := "the rows not in the report are left"
	if o.Total >= 0 {
		left = fmt.Sprintf("%d of %d rows left", max(o.Total-o.Summary.Rows, 0), o.Total)
	}
	sent := o.Summary.Counts[job.StatusSent]
	if se.Cap {
		fmt.Fprintf(w, "summary: stopped: Cognito's daily email limit is reached (LimitExceededException \"Exceeded daily "+
			"email limit\"); this run sent %d; %s, not attempted (no row: none failed)\n", sent, left)
	} else {
		fmt.Fprintf(w, "summary: stopped: daily budget spent: %d of %d sent in this window (this run: %d); %s, not attempted (no row)\n",
			o.Budget.Spent, se.Limit, sent, left)
	}
	fmt.Fprintf(w, "summary: the next window opens %s (in %s; windows begin %s): the same command with --resume --report %s "+
		"continues then (a daily CronJob: docs/long-campaigns.md); exit 4: budget spent, more to do\n",
		se.Next.UTC().Format(time.RFC3339), span(max(se.Next.Sub(now), 0).Round(time.Minute)), o.Budget.Reset, o.ReportPath)
	if o.Budget.Limit > 0 && o.Total >= 0 {
		if n, _ := budget.Windows(max(o.Total-o.Summary.Rows, 0), o.Budget.Limit, 0); n > 0 {
			fmt.Fprintf(w, "summary: at %d a window, the rows left take %d more window(s)\n", o.Budget.Limit, n)
		}
	}
	if se.Cap {
		fmt.Fprintln(w, "summary: Cognito's default email resets on its own schedule, not necessarily at --budget-reset: "+
			"a run before it stops again after one call (docs/long-campaigns.md); Amazon SES for the pool raises the cap")
	}
}
