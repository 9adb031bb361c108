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

// untilNext is the wait for the next window as the summary says it: to the minute, but
// under a minute to the second, rounded up ("in 6s", never "in 0s" for a window 6 s away).
func untilNext(d time.Duration) time.Duration {
	switch {
	case d <= 0:
		return 0
	case d < time.Minute:
		return (d + time.Second - 1).Truncate(time.Second)
	}
	return d.Round(time.Minute)
}

// printSpent is the summary of a campaign stopped by a spent budget (exit 4): what was
// sent, what is left, when the next window opens and what to run then.
// maybe users may have been sent a code and have no row (named above it): they are
// left, but not "not attempted".
func printSpent(w io.Writer, o *campaign.Outcome, se *budget.SpentError, maybe int) {
	now := o.Summary.Finished
	left := "the rows not in the report are left"
	if o.Total >= 0 {
		left = fmt.Sprintf("%d of %d rows left", max(o.Total-o.Summary.Rows, 0), o.Total)
	}
	notDone := "not attempted (no row)"
	if se.Cap {
		// The call Cognito answered with the cap was attempted, and sent nothing.
		notDone = "not sent (no row: none failed; the call Cognito refused with its cap is made again then)"
	}
	if maybe > 0 {
		notDone = fmt.Sprintf("%d may have been sent (above), the others %s", maybe, notDone)
	}
	sent := o.Summary.Counts[job.StatusSent]
	if se.Cap {
		fmt.Fprintf(w, "summary: stopped: Cognito's daily email limit is reached (LimitExceededException \"Exceeded daily "+
			"email limit\"); this run sent %d; %s, %s\n", sent, left, notDone)
	} else {
		fmt.Fprintf(w, "summary: stopped: daily budget spent: %d of %d sent in this window (this run: %d); %s, %s\n",
			o.Budget.Spent, se.Limit, sent, left, notDone)
	}
	exit := "exit 4: budget spent, more to do"
	if o.Signalled && !o.Redelivers {
		exit = "exit 3: stopped by a signal while stopping at the budget"
	}
	fmt.Fprintf(w, "summary: the next window opens %s (in %s; windows begin %s): the same command with --resume --report %s "+
		"continues then (a daily CronJob: docs/long-campaigns.md); %s\n",
		se.Next.UTC().Format(time.RFC3339), span(untilNext(se.Next.Sub(now))), o.Budget.Reset, o.ReportPath, exit)
	if o.Budget.Limit > 0 && o.SendsLeft >= 0 {
		// The users to send, not the rows: invalid and duplicate rows take no budget.
		if n, _ := budget.Windows(o.SendsLeft, o.Budget.Limit, 0); n > 0 {
			fmt.Fprintf(w, "summary: at %d a window, the users left to send (%d) take %d more window(s)\n", o.Budget.Limit, o.SendsLeft, n)
		}
	}
	if se.Cap {
		fmt.Fprintln(w, "summary: Cognito's default email resets on its own schedule, not necessarily at --budget-reset: "+
			"a run before it stops again after one call (docs/long-campaigns.md); Amazon SES for the pool raises the cap")
	}
}
