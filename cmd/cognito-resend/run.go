package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/campaign"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/words"
)

// newCmdRun is `cognito-resend run`: flags → config, then runRun.
func newCmdRun(ios streams, kill context.Context) *cli.Command {
	return &cli.Command{
		Name:               "run",
		Usage:              "resend codes to the users of a CSV file, a user pool or an SQS queue, within the rate quota",
		UsageText:          "cognito-resend run (--csv PATH|- | --user-pool-id ID | --sqs-queue-url URL) --client-id ID [options]",
		Flags:              runFlags(),
		CustomHelpTemplate: groupedHelpTemplate(runExamples),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			cfg, err := loadConfig(cmd, ios.getenv)
			if err != nil {
				return usageErr(err)
			}
			return runRun(ctx, kill, cfg, ios)
		},
	}
}

// runRun opens the campaign, counts it for --dry-run or the prompt, runs it and maps
// its outcome to an exit code.
func runRun(stop, kill context.Context, cfg config.Config, ios streams) error {
	log := newLogger(cfg, ios.stderr)
	if logFormat(cfg, ios.stderr) == "json" {
		ios.notes.useJSON() // the summary and the stop notices as log records: one format on stderr
	}
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	c := campaign.New(cfg, campaign.Env{Stdin: ios.stdin, Logger: log, Clock: clock.Real(), Factory: campaign.AWSFactory})
	defer c.Close() //nolint:errcheck // releases what Prepare holds and no run took
	// A signal before the run started (during the pool's listing or census, say) is a
	// stop, exit 3 (README "Exit codes"), not a usage error.
	usageErr := func(err error) error { return stoppedEarly(stop, err, usageErr) }
	startErr := func(err error) error { return stoppedEarly(stop, err, startErr) }
	// Every check that can fail before a call, before the prompt and in the dry run too.
	if err := c.Prepare(stop); err != nil {
		return startErr(err)
	}
	if cfg.DryRun {
		cen, err := c.Census(stop)
		if errors.Is(err, campaign.ErrNotCountable) {
			fmt.Fprintln(ios.stdout, "dry run: queue mode receives nothing in a dry run — receiving would hide the "+
				"messages from other consumers for the visibility timeout. To see what a campaign would do, "+
				"dry-run the CSV you enqueue (run --csv FILE --dry-run) or check the queue's ApproximateNumberOfMessages.")
			return nil
		}
		if err != nil {
			return usageErr(err)
		}
		plan, err := c.BudgetPlan(stop, cen.ToSend)
		if err != nil {
			return startErr(err)
		}
		printCensus(ios.stdout, cen, c.Pace())
		printPlan(ios.stdout, plan, "budget:      ")
		return nil
	}
	if !cfg.Yes && c.Countable() {
		if !isTerminal(ios.stdin) {
			return usageErr(errors.New("refusing to start: no terminal to confirm on; pass --yes (alias --force) to confirm, or --dry-run to count first"))
		}
		cen, err := c.Census(stop)
		if err != nil {
			return usageErr(err)
		}
		if cen.Header != "" {
			fmt.Fprintf(ios.stderr, "CSV header: %s\n", cen.Header) // what the count is of
		}
		printVerify(ios.stderr, cen) // what --verify-users reads, and what it costs, before the answer
		plan, err := c.BudgetPlan(stop, cen.ToSend)
		if err != nil {
			return startErr(err)
		}
		printPlan(ios.stderr, plan, "")
		if err := confirm(stop, ios.stdin, ios.stderr, cen, c.Pace()); err != nil {
			c.Declined()
			// Any answer but y is exit 2 (README), Ctrl-C at the prompt included: not
			// stoppedEarly's exit 3, which is for a signal during the work before it.
			return &exitError{code: exitUsage, err: err}
		}
	}

	prog := &progress{mode: cfg.Progress, out: ios.stderr, terminal: isTerminal(ios.stderr), log: log,
		interval: cfg.ProgressInterval, clock: clock.Real(), notes: ios.notes}
	out, err := c.Run(stop, kill, prog)
	if err != nil {
		return startErr(err)
	}
	var text strings.Builder
	printSummary(&text, out)
	ios.notes.say(slog.LevelInfo, "summary", text.String())
	switch {
	case out.Spent() != nil && out.Signalled && !out.Redelivers:
		// Stopped by a signal while stopping at the budget: a signal's exit (README's table).
		return &exitError{code: exitStopped, err: nil}
	case out.Spent() != nil:
		// Not a fault: the summary says what is left and when the next window opens.
		return &exitError{code: exitBudget, err: nil}
	case out.Stopped != nil:
		return stoppedErr(out.Stopped)
	case out.Redelivers && stop.Err() != nil:
		// A queue worker told to stop has reached its normal end (README "Exit codes"):
		// its failed rows are in the report and the metrics, the queue retries the rest.
		return nil
	case out.Failed() > 0:
		return &exitError{code: exitFailed, err: nil}
	}
	return nil
}

func newLogger(cfg config.Config, stderr io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if logFormat(cfg, stderr) == "text" {
		return slog.New(slog.NewTextHandler(stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(stderr, opts))
}

// logFormat is --log-format, auto resolved: text on a terminal, else JSON.
func logFormat(cfg config.Config, stderr io.Writer) string {
	if cfg.LogFormat != "auto" {
		return cfg.LogFormat
	}
	if isTerminal(stderr) {
		return "text"
	}
	return "json"
}

// printSummary tells how the run ended: its rows, the whole campaign's when it
// continued one, the users whose call may have landed without a row, and when it
// stopped early what is left and how to continue.
func printSummary(w io.Writer, o *campaign.Outcome) {
	sum := o.Summary
	elapsed := sum.Finished.Sub(sum.Started)
	secs := max(elapsed.Seconds(), 1e-9)
	run := ""
	if o.Campaign != nil {
		run = "this run: "
	}
	// The achieved pace is the attempts over the run's time; the limiter's rate is what
	// it would allow now; with --verify-users the lower of the two limiters sets the pace.
	pace := fmt.Sprintf("limiter rate now %.1f/s", o.Rate)
	if o.VerifyRate > 0 {
		pace += fmt.Sprintf(", --verify-users check rate now %.1f/s (the lower one sets the pace)", o.VerifyRate)
	}
	// Every Cognito send counts: with --invitations, the AdminCreateUser attempts too,
	// each named.
	attempts, split := o.Attempts, ""
	if o.InvitationRate > 0 {
		attempts += o.Invitations
		split = fmt.Sprintf(" (%d ResendConfirmationCode, %d AdminCreateUser)", o.Attempts, o.Invitations)
	}
	achieved := fmt.Sprintf("%.1f/s achieved", float64(attempts)/secs)
	if elapsed < minRateSpan {
		achieved = "too short for a rate" // 1 call in 12 ms is not 83/s
	}
	fmt.Fprintf(w, "summary: %s%s [%s] in %s; %s%s, %s, %d throttled; %s\n",
		run, words.Count(int64(sum.Rows), "row"), statusCounts(sum.Counts), elapsed.Round(time.Millisecond),
		words.Count(int64(attempts), "Cognito attempt"), split, achieved, o.Throttles, pace)
	if o.Campaign != nil {
		fmt.Fprintf(w, "summary: whole campaign (earlier runs and this one): %s [%s]\n",
			words.Count(int64(o.Campaign.Rows), "row"), statusCounts(o.Campaign.Counts))
	}
	if o.VerifyCalls > 0 {
		fmt.Fprintf(w, "summary: %s (--verify-users: each user checked before the resend, and the start-up check); "+
			"each user checked is a billed monthly active user this month\n", words.Count(o.VerifyCalls, "AdminGetUser call"))
	}
	if o.ListPages+o.ListLookups > 0 {
		fmt.Fprintf(w, "summary: %s (%s, %s by name); none of them bills a user\n",
			words.Count(o.ListPages+o.ListLookups, "ListUsers call"), words.Count(o.ListPages, "listing page"), words.Count(o.ListLookups, "lookup"))
	}
	if o.InvitationRate > 0 {
		fmt.Fprintf(w, "summary: %s sent; %s (--invitations, invitation rate now %.1f/s)\n",
			messages(o.Sent[job.MessageConfirmation], o.Sent[job.MessageInvitation]),
			words.Count(int64(o.Invitations), "AdminCreateUser RESEND attempt"), o.InvitationRate)
	}
	if o.UsernameCase != "" {
		fmt.Fprintf(w, "summary: %s\n", o.UsernameCase)
	}
	maybe := o.MayHaveCalled()
	if len(maybe) > 0 {
		one := len(maybe) == 1
		pick := func(many, single string) string {
			if one {
				return single
			}
			return many
		}
		next := pick("--resume reports them unknown and does not call them again", "--resume reports it unknown and does not call it again")
		if o.Redelivers {
			next = pick("their claims are kept: they are not called again", "its claim is kept: it is not called again")
		}
		why := pick("their calls were aborted", "its call was aborted") // the second signal
		if o.Stopped != nil && !errors.Is(o.Stopped, engine.ErrInterrupted) {
			why = pick("their calls were cut short or their rows not written when it stopped",
				"its call was cut short or its row not written when it stopped")
		}
		what := "a code"
		if o.InvitationRate > 0 { // --invitations
			what = "a code or an invitation"
		}
		fmt.Fprintf(w, "summary: %s may have been sent %s but %s no row (%s): %s; %s\n",
			words.Count(len(maybe), "user"), what, pick("have", "has"), why, nameSome(maybe, maxNamed), next)
	}
	if se := o.Spent(); se != nil {
		printSpent(w, o, se, len(maybe))
	} else if o.Stopped != nil {
		next := cmp.Or(o.Continue(), "the same command with --resume --report "+o.ReportPath+" continues")
		switch {
		case o.Redelivers && len(maybe) > 0:
			fmt.Fprintln(w, "summary: stopped: "+o.QueueStopNote()+"; but for those named above, who may have been sent")
		case o.Redelivers:
			fmt.Fprintln(w, "summary: stopped: "+o.QueueStopNote())
		case o.Total >= 0 && len(maybe) > 0:
			left := max(o.Total-sum.Rows, 0)
			fmt.Fprintf(w, "summary: stopped with %d of %d rows left: %d may have been sent (above), %d not attempted; "+
				"%s (the %d as unknown)\n",
				left, o.Total, len(maybe), max(left-len(maybe), 0), next, len(maybe))
		case o.Total >= 0:
			fmt.Fprintf(w, "summary: stopped with %d of %d rows left, not attempted (no row); %s\n",
				max(o.Total-sum.Rows, 0), o.Total, next)
		case len(maybe) > 0:
			fmt.Fprintf(w, "summary: stopped: rows not in the report were not attempted but for the %d above; "+
				"%s (the %d as unknown)\n", len(maybe), next, len(maybe))
		default:
			fmt.Fprintf(w, "summary: stopped: rows not in the report were not attempted; %s\n", next)
		}
	}
	fmt.Fprintf(w, "report: %s\n", o.ReportPath)
	printRetryHint(w, o)
}

// minRateSpan is the shortest run whose achieved rate the summary prints.
const minRateSpan = time.Second

// maxNamed bounds the users a summary line names.
const maxNamed = 20

// nameSome is the first n names, and how many more.
func nameSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}

// printRetryHint says how to call the failed and limit_exceeded users of a CSV or pool
// campaign again.
func printRetryHint(w io.Writer, o *campaign.Outcome) {
	if o.Redelivers {
		return // a queue retries by itself
	}
	if n := o.Latest(job.StatusFailed); n > 0 {
		fmt.Fprintf(w, "%d failed: --resume --retry-failed calls %s again (--report %s)\n", n, words.Them(n), o.ReportPath)
	}
	if n := o.Latest(job.StatusLimitExceeded); n > 0 {
		when := "now"
		if o.LimitDue.After(o.Summary.Finished) {
			when = "once their hour has passed (all by " + o.LimitDue.UTC().Format(time.RFC3339) + ")"
			if n == 1 {
				when = "once its hour has passed (at " + o.LimitDue.UTC().Format(time.RFC3339) + ")"
			}
		}
		fmt.Fprintf(w, "%d limit_exceeded (Cognito's per-user limit): --resume --retry-failed calls %s again %s\n", n, words.Them(n), when)
	}
}

// statusCounts is "sent=3 failed=1": the statuses with rows, in report order.
func statusCounts(counts map[job.Status]int) string {
	var parts []string
	for _, st := range job.Statuses {
		if n := counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", st, n))
		}
	}
	return strings.Join(parts, " ")
}
