package campaign

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// resumed is what earlier runs of the campaign left, as this run uses it: loaded once,
// for the census and the run alike.
type resumed struct {
	state *records.ResumeState // nil: nothing to resume (a fresh campaign)
	// unknown are the rows of intents without an outcome, recorded first by the engine
	// (none with --retry-unknown: those users are called again).
	unknown []job.Result
}

// resume loads the resume state the first time it is asked for, for a source that
// redelivers or not (the rows that make a user final differ, see
// records.ResumeOptions): nothing without --resume, or when the report does not exist
// yet (the campaign starts: checkResumeTarget let it, with --start-if-missing or in
// queue mode). Users left unknown are not to be called unless
// --retry-unknown: their users and lines count as done, and their rows are recorded.
func (c *Campaign) resume(redelivers bool) (*resumed, error) {
	if c.resumed != nil {
		return c.resumed, nil
	}
	r := &resumed{}
	if c.cfg.Resume {
		if _, err := os.Stat(c.reportPath); !errors.Is(err, os.ErrNotExist) {
			st, err := records.LoadResume(c.reportPath, records.ResumeOptions{
				RetryUnknown: c.cfg.RetryUnknown, RetryFailed: c.cfg.RetryFailed, Invitations: c.cfg.Invitations, Now: c.clock.Now(),
				Redelivers: redelivers, Case: c.rule.Case, CSVLines: c.cfg.CSV != "", Window: c.window()})
			if err != nil {
				return nil, err
			}
			r.state = st
			if !c.cfg.RetryUnknown {
				for _, u := range st.Unknown {
					row := records.UnknownResult(u, c.clock)
					st.Record(row) // settles its line and user now; recording it again when written changes nothing
					r.unknown = append(r.unknown, row)
				}
			}
		}
	}
	c.resumed = r
	return r, nil
}

// skipDone wraps a source and drops the jobs whose row an earlier run already wrote,
// after checking that each line with a row names the same user as that row: resume
// matches lines by number, so another or an edited CSV would otherwise skip users.
type skipDone struct {
	job.Source
	state    *records.ResumeState
	mismatch func(j job.Job) error
	skipped  int // lines skipped: settled by the report
}

// Next returns the next job without a row that settles it, or the error of the first
// line that names another user than its row.
func (s *skipDone) Next(ctx context.Context) (job.Job, error) {
	for {
		j, err := s.Source.Next(ctx)
		if err != nil {
			return j, err
		}
		if !s.state.Matches(j.SourceRef, j.Username) {
			return job.Job{}, s.mismatch(j)
		}
		if !s.state.Done(j.SourceRef) {
			return j, nil
		}
		s.skipped++
	}
}

// skipRecorded makes a finite source (CSV lines, pool users) skip what already has a
// row that settles it (records.ResumeState.Done: not a line --retry-failed or
// --retry-unknown calls again), and refuse a line that names another user than its row
// (mismatch). A source that redelivers is left alone: its repeats are settled by the
// admit rule (duplicates of users with a final row).
func (r *resumed) skipRecorded(src *source, mismatch func(j job.Job) error) {
	if r.state != nil && !src.Redelivers() {
		src.Source = &skipDone{Source: src.Source, state: r.state, mismatch: mismatch}
	}
}

// retrying reports whether a job's line had a row and is called again (--retry-failed,
// --retry-unknown).
func (r *resumed) retrying(ref string) bool {
	return r.state != nil && r.state.Retrying(ref)
}

// final is the users earlier runs finished (nil: none).
func (r *resumed) final() *admit.Set {
	if r.state == nil {
		return nil
	}
	return r.state.Final
}

// input is what this campaign reads its users from (a CSV without its digest: only the
// record written when the report is created has one).
func (c *Campaign) input() records.Input {
	switch {
	case c.cfg.CSV != "":
		in := records.Input{Source: records.InputCSV, CSV: c.cfg.CSV}
		if abs, err := filepath.Abs(c.cfg.CSV); err == nil && c.cfg.CSV != "-" {
			in.CSV = abs
		}
		return in
	case c.cfg.SQSQueueURL != "":
		return records.Input{Source: records.InputQueue, QueueURL: c.cfg.SQSQueueURL}
	}
	return records.Input{Source: records.InputPool, UserPoolID: c.cfg.UserPoolID}
}

// checkInput refuses to resume a report made from another pool, queue or kind of source
// (a usage error, before the source is opened: a queue is not received from), and says
// how a CSV compares with the one the report was made from; its lines are checked one by
// one as they are read (skipDone). A report without the record (an earlier version's)
// resumes with a warning. Once, from Prepare; nothing without --resume or a report.
// checkNarrowReport refuses --resume --invitations on a CSV report begun before the
// message column (12 columns): the report is append-only and keeps its width, so its rows
// could not say which users were sent an invitation (they would read as plain `sent`,
// and `report summary` would count no invitation).
func (c *Campaign) checkNarrowReport() error {
	if !c.cfg.Resume || !c.cfg.Invitations || records.CSVReportColumns(c.reportPath) != len(records.ColumnsV1) {
		return nil
	}
	// The way out as a command that runs as printed: --invitations beside a CSV needs the
	// pool and --verify-users (config's validateInvitations), which this run has.
	invite := fmt.Sprintf("cognito-resend run --csv admin-created.csv --invitations --report invitations.csv "+
		"--user-pool-id %s --verify-users --client-id %s", c.cfg.UserPoolID, c.cfg.ClientID)
	if c.cfg.InvitationDelivery != "" {
		invite += " --invitation-delivery " + c.cfg.InvitationMedium()
	}
	return &config.FieldError{Field: "invitations", Msg: fmt.Sprintf("the report %s was begun by an earlier version, "+
		"without the message column: its rows could not tell an invitation from a confirmation code, so it is not "+
		"resumed with --invitations. Resume it without --invitations (confirmation codes only); then invite its "+
		"admin-created users into a new report: cognito-resend report users --status not_eligible -o admin-created.csv %s; "+
		"then %s (add the first run's --region, rate and secret options, if any)", c.reportPath, c.reportPath, invite)}
}

func (c *Campaign) checkInput() error {
	if c.inputChecked || !c.cfg.Resume {
		return nil
	}
	// Said once it is known whether the report's record brings a budget (keepBudget).
	defer func() {
		if c.cfg.Given("budget-reset") && !c.cfg.Given("daily-budget") && c.cfg.DailyBudget <= 0 {
			c.log.Warn(config.WarnResetOnly)
		}
	}()
	if _, err := os.Stat(c.reportPath); errors.Is(err, os.ErrNotExist) {
		return nil // the campaign starts
	}
	rec, ok, err := records.ReadInput(c.reportPath)
	if err != nil {
		return &config.FieldError{Field: "resume", Msg: err.Error()}
	}
	now := c.input()
	if !ok {
		c.csvChanged = true
		c.log.Warn("the report has no record of its input (made by an earlier version, or its first run was "+
			"killed at the start): its source is not checked; each CSV line with a row is still checked against "+
			"that row's username", "report", c.reportPath, "input", records.InputPath(c.reportPath))
		c.inputChecked = true
		return nil
	}
	c.keepBudget(rec)
	if err := c.checkReset(rec); err != nil {
		return err
	}
	if same, why := rec.Same(now); !same {
		return &config.FieldError{Field: "resume", Msg: fmt.Sprintf("%s: %s. A report continues the campaign of "+
			"its own input; to send from another source, start a new report (another --report), which calls "+
			"every user of that source", c.reportPath, why)}
	}
	switch rec.CSVRelation(c.cfg.CSV) {
	case "appended":
		c.log.Info("the CSV is the report's with lines added at its end: they are new work",
			"csv", c.cfg.CSV, "report_made_from", rec.CSV)
	case "changed":
		c.csvChanged = true
		c.log.Warn("the CSV is not the file the report was made from: each line with a row is checked against it",
			"csv", c.cfg.CSV, "report_made_from", rec.CSV, "size", rec.Size, "sha256", rec.SHA256)
	}
	c.inputChecked = true
	return nil
}

// checkResumed loads the resume state (Prepare: before any listing of the pool, so a
// report that can't be resumed is refused first).
func (c *Campaign) checkResumed() error {
	if !countable(c.cfg) {
		return nil // a queue: its resume state is loaded by the run
	}
	_, err := c.resume(false) // a CSV or a pool: lines are not redelivered
	return err
}

// checkLines reads a CSV that is not the file the report was made from (csvChanged)
// once against the report's rows: a line that names another user than its row is
// refused before the census, the prompt and any call — the case rule's DescribeUserPool
// too: a line matches its row only as the same text (ResumeState.Matches), whatever
// the pool's case rule, so the state it reads is loaded without one (the run's is
// loaded under it: resume).
func (c *Campaign) checkLines(ctx context.Context) error {
	if c.linesChecked || !c.csvChanged || c.cfg.CSV == "" || c.cfg.CSV == "-" {
		return nil
	}
	if _, err := os.Stat(c.reportPath); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	st, err := records.LoadResume(c.reportPath, records.ResumeOptions{RetryUnknown: c.cfg.RetryUnknown,
		RetryFailed: c.cfg.RetryFailed, Invitations: c.cfg.Invitations, Now: c.clock.Now(), CSVLines: true})
	if err != nil {
		return err
	}
	r := &resumed{state: st}
	s, err := openCSV(ctx, c.cfg.CSV, c.cfg.Header, nil)
	if err != nil {
		return err
	}
	defer s.close(ctx) //nolint:errcheck // read-only pass
	r.skipRecorded(s, c.lineMismatch(r, false))
	for {
		_, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			c.linesChecked = true
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// lineMismatch is the usage error of a CSV line that names another user than the
// report's row for that line. The census finds it before any call; a run that was not
// counted first (--csv -) finds it as it reads, and stops there.
func (c *Campaign) lineMismatch(r *resumed, running bool) func(j job.Job) error {
	return func(j job.Job) error {
		sent := "Nothing was sent"
		if running {
			sent = "The run stops here: the lines before it have their rows"
		}
		made := ""
		if rec, ok, _ := records.ReadInput(c.reportPath); ok {
			made = " (" + rec.String() + ")"
		}
		return &config.FieldError{Field: "resume", Msg: fmt.Sprintf("line %s of %s is %q, but the report %s has a "+
			"row for line %s with %q: this is not the CSV the report was made from%s, or it was edited — lines "+
			"may only be added at its end. %s. Resume with that CSV; to send fixed or new lines, put them at the END "+
			"of that CSV and resume with it (the lines with rows are skipped). Only then, if you must: a new report "+
			"(another --report) starts over and calls every user of the CSV again", j.SourceRef, c.cfg.CSV,
			j.Username, c.reportPath, j.SourceRef, r.state.RowUsername(j.SourceRef), made, sent)}
	}
}

// recordInput writes the record of the report's input beside it (records.WriteInput):
// when the report is created, or on the first resume of a report made without one.
func (c *Campaign) recordInput(fresh bool) error {
	in := c.input()
	if in.Source == records.InputCSV && in.CSV != "-" {
		var err error
		if in, err = records.CSVInput(c.cfg.CSV); err != nil {
			return err
		}
	}
	if c.rule != nil {
		// After CSVInput, which describes the file anew (the trial: a CSV report's record
		// lost the rule, and `report summary` merged case-sensitively).
		in.UsernameCase = records.CaseName(c.rule.Case) // the reports merge rows by it
	}
	if c.cfg.DailyBudget > 0 {
		in.DailyBudget, in.BudgetReset = c.cfg.DailyBudget, c.cfg.BudgetReset
	}
	if c.resetMoved != nil {
		// The record keeps its input; the budget's reset moves (Recorded: now).
		in = *c.resetMoved
		in.BudgetReset = c.cfg.BudgetReset
		if in.UsernameCase == "" && c.rule != nil {
			in.UsernameCase = records.CaseName(c.rule.Case) // a record written without it
		}
		return replaceInput(c.reportPath, in, c.clock.Now())
	}
	return records.WriteInput(c.reportPath, in, c.clock.Now(), fresh)
}

// replaceInput writes the report's record of its input anew, whole or not at all: a
// record cut short by a crash would lose the campaign's budget (and its binding).
func replaceInput(report string, in records.Input, now time.Time) error {
	tmp := report + ".moving"
	if err := records.WriteInput(tmp, in, now, true); err != nil {
		return err
	}
	if err := os.Rename(records.InputPath(tmp), records.InputPath(report)); err != nil {
		return fmt.Errorf("record the report's input: %w", err)
	}
	if d, err := os.Open(filepath.Dir(report)); err == nil { // the rename durable (best effort)
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// checkReset refuses a --budget-reset other than the one the resumed campaign's daily
// budget was recorded with (rec) while the report has sends in a window of the recorded
// reset that the new reset's current window overlaps (budget.Schedule.Overlapping, the
// table's rule too): it would send a budget's worth more the same day. Once it has none,
// the new reset is allowed and recorded for the runs after (recordInput), so that a later
// --resume without it does not move the window back. A daily run moved to after a later
// reset moves with it the next day, skipping none (docs/long-campaigns.md).
func (c *Campaign) checkReset(rec records.Input) error {
	if rec.DailyBudget <= 0 || c.cfg.DailyBudget <= 0 || !c.cfg.Given("budget-reset") {
		return nil
	}
	was, err := budget.ParseReset(cmp.Or(rec.BudgetReset, budget.ResetDefault))
	mine := c.cfg.Schedule()
	if err != nil || was == mine {
		return nil
	}
	now := c.clock.Now()
	overlapping := mine.Overlapping(was, now)
	sent := func(since time.Time) (int, error) {
		st, err := records.LoadResume(c.reportPath, records.ResumeOptions{Now: now, Window: since})
		if err != nil {
			return 0, err
		}
		return st.WindowSent, nil
	}
	recent, err := sent(overlapping[0])
	if err != nil {
		return err
	}
	if recent > 0 {
		// The recorded reset's window with the last send, and its sends: the one the
		// message names (the earliest overlapping window may hold none of them).
		last, inLast := overlapping[len(overlapping)-1], 0
		if inLast, err = sent(last); err != nil {
			return err
		} else if inLast == 0 {
			last, inLast = overlapping[0], recent
		}
		myStart, _ := mine.Window(now)
		return &config.FieldError{Field: "budget-reset", Msg: fmt.Sprintf("%s%s is not the reset this campaign's daily "+
			"budget was recorded with (%d a window from %s, in %s), and %d of the report's sends are in its window "+
			"from %s, which this window from %[1]s (begun %[8]s) overlaps: it would send up to %[9]d more the same day. "+
			"Nothing was sent. Resume without %[10]s (%[4]s applies). To move the reset, give it from %[11]s, the first "+
			"window from %[1]s that begins after the recorded reset's window with the report's last send ends (a "+
			"daily run moved to after a later reset skips no day; nothing may be sent with the old reset meanwhile); "+
			"it is then recorded for the runs after", mine, c.originNote("budget-reset"), rec.DailyBudget, was,
			records.InputPath(c.reportPath), inLast, last.UTC().Format(time.RFC3339),
			myStart.UTC().Format(time.RFC3339), c.cfg.DailyBudget, c.optionAt("budget-reset"),
			firstAtOrAfter(mine, last.AddDate(0, 0, 1)).UTC().Format(time.RFC3339))}
	}
	moved := rec
	c.resetMoved = &moved
	c.log.Warn("the daily budget's reset moves: the report has no send in a window of the recorded reset that this "+
		"one overlaps; the new reset is recorded with the report for the runs after", "recorded_budget_reset", rec.BudgetReset,
		"budget_reset", c.cfg.BudgetReset, "budget_reset_from", c.cfg.Origin("budget-reset"),
		"input", records.InputPath(c.reportPath))
	return nil
}

// keepBudget applies the daily budget recorded with the report (rec) to a resumed run
// that does not give --daily-budget itself: a tired operator's --resume must not drop it
// and send a spent window's worth more. An explicit --daily-budget wins (0 lifts it,
// said here). BudgetFrom says which it was, for the dry run and the prompt.
func (c *Campaign) keepBudget(rec records.Input) {
	switch {
	case c.cfg.Given("daily-budget") && rec.DailyBudget > 0 && c.cfg.DailyBudget != rec.DailyBudget:
		c.budgetFrom = fmt.Sprintf("the campaign started with %d a window", rec.DailyBudget) // the line names --daily-budget
		if c.cfg.DailyBudget == 0 {
			c.log.Warn("--daily-budget 0 lifts the daily budget this campaign started with: no budget for this run",
				"recorded_daily_budget", rec.DailyBudget, "report", c.reportPath)
		}
	case c.cfg.Given("daily-budget"):
		c.budgetFrom = "--daily-budget"
	case rec.DailyBudget > 0:
		c.cfg.DailyBudget = rec.DailyBudget
		if !c.cfg.Given("budget-reset") && rec.BudgetReset != "" {
			c.cfg.BudgetReset = rec.BudgetReset
		}
		c.budgetFrom = "recorded with the report (" + records.InputPath(c.reportPath) + "); --daily-budget overrides, 0 lifts it"
		if c.cfg.Given("budget-reset") { // given (checkReset decides whether it may move): not the record's
			c.log.Info("the campaign's daily budget applies: recorded with the report", "daily_budget", c.cfg.DailyBudget,
				"recorded_budget_reset", cmp.Or(rec.BudgetReset, budget.ResetDefault), "budget_reset", c.cfg.BudgetReset,
				"budget_reset_from", c.cfg.Origin("budget-reset"), "input", records.InputPath(c.reportPath))
			return
		}
		c.log.Info("the campaign's daily budget applies: recorded with the report", "daily_budget", c.cfg.DailyBudget,
			"budget_reset", c.cfg.BudgetReset, "input", records.InputPath(c.reportPath))
	}
}

// BudgetFrom says where the run's daily budget came from ("" when nothing to say).
func (c *Campaign) BudgetFrom() string { return c.budgetFrom }

// checkRerun refuses a run without --report (nor --resume) whose input already made a
// report in the default report directory: its default report is new each run, so the
// same command twice would call every user twice. A queue is left alone (a message is
// deleted once done: a second worker sends nothing twice), so is --ledger-table (the
// table settles users sent before) and standard input (no digest). A dry run warns.
func (c *Campaign) checkRerun() error {
	cfg := c.cfg
	if cfg.Report != "" || cfg.Resume || cfg.LedgerTable != "" || cfg.SQSQueueURL != "" || cfg.CSV == "-" {
		return nil
	}
	if c.rerunInput != nil {
		return nil // checked by an earlier Prepare of this run (a dry run's warning is said once)
	}
	now := c.input()
	if now.Source == records.InputCSV {
		var err error
		if now, err = records.CSVInput(cfg.CSV); err != nil {
			return nil // the source's own open says what is wrong
		}
	}
	dir := filepath.Dir(DefaultReportPath(c.started))
	c.rerunInput = &now // in this run's lock: the same command started again is refused at once
	if running := records.RunningOf(dir, now, c.reportPath); len(running) > 0 {
		// Its report and .input come after its listing: its lock says what it reads.
		r := running[0]
		err := &config.FieldError{Field: "report", Msg: fmt.Sprintf("not given, but a run from %s is in progress "+
			"(%s, report %s): running alongside it would call its users a second time. Wait for it to end; to "+
			"continue that campaign then: --resume --report %s", now.String(), r.Holder, r.Report, r.Report)}
		if cfg.DryRun {
			c.log.Warn("the run would be refused: " + err.Error())
			return nil
		}
		return err
	}
	p := priorReports(dir, now)
	if len(p.found) == 0 {
		return nil
	}
	found := p.found
	err := &config.FieldError{Field: "report", Msg: fmt.Sprintf("not given, but the report %s%s was made from %s: "+
		"running again would call its users a second time. To continue that campaign: --resume --report %s; "+
		"to start over on purpose (every user is called again): --report <new name>", found[0], othersOf(found), p.what,
		found[0])}
	if cfg.DryRun {
		// It calls nobody: it counts, and says what the run would refuse.
		c.log.Warn("the run would be refused: " + err.Error())
		return nil
	}
	return err
}

// checkResumeTarget refuses --resume onto a report that does not exist: a mistyped path
// would otherwise start a new campaign and call everyone again. It names a report of the
// same input or a close name in that directory. --start-if-missing (automation that
// starts or continues) starts it, unless a report in that directory was made from the
// same input (priorReports: the same pool, the same CSV, or the same CSV path edited
// since): a mistyped --report in a Job would call its users again. Left alone: a queue
// worker (its report is its log; the queue holds the work).
func (c *Campaign) checkResumeTarget() error {
	if !c.cfg.Resume || c.cfg.SQSQueueURL != "" {
		return nil
	}
	if _, err := os.Stat(c.reportPath); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	dir := filepath.Dir(c.reportPath)
	hint := ""
	now := c.input()
	if now.Source == records.InputCSV && now.CSV != "-" {
		now, _ = records.CSVInput(c.cfg.CSV)
	}
	p := priorReports(dir, now)
	same := p.found
	if c.cfg.StartIfMissing {
		if len(same) == 0 {
			return nil // the campaign's first run
		}
		return &config.FieldError{Field: "start-if-missing", Msg: sameInputMsg(c.reportPath, p)}
	}
	if len(same) == 1 {
		hint = fmt.Sprintf(" (the report made from %s here is %s: --resume --report %s)", p.inputWord(), same[0], same[0])
	} else if len(same) > 1 {
		// Several (a campaign started over): name them, newest first, not none (trial 4).
		named := same
		if len(named) > reportsNamed {
			named = append(slices.Clip(named[:reportsNamed]), fmt.Sprintf("and %d more", len(same)-reportsNamed))
		}
		hint = fmt.Sprintf(" (the reports made from %s here, newest first: %s; --resume --report %s continues the newest)",
			p.inputWord(), strings.Join(named, ", "), same[0])
	} else if near := closeReport(dir, c.reportPath); near != "" {
		hint = fmt.Sprintf(" (did you mean --report %s?)", near)
	}
	return &config.FieldError{Field: "resume", Msg: fmt.Sprintf("the report %s does not exist%s. --resume continues "+
		"a report; to start the campaign, drop --resume (automation that starts or continues it: --resume "+
		"--start-if-missing)", c.reportPath, hint)}
}

// reportsNamed bounds the reports a --resume hint names.
const reportsNamed = 5

// prior is the reports in a directory (newest first) that a run from an input would
// repeat (priorReports), and what they were made from.
type prior struct {
	found []string
	what  string
	// grown: made from the same CSV path, whose file has had lines added at its end
	// since (not records.SameInput's same digest).
	grown bool
}

// inputWord is "this input", or "this CSV's path" when the CSV grew since.
func (p prior) inputWord() string {
	if p.grown {
		return "this CSV's path (the CSV grew since)"
	}
	return "this input"
}

// priorReports lists the reports in dir (newest first) that a run from the input now
// would repeat, and words what they were made from: the same input (records.ReportsOf:
// the same CSV bytes, the same pool or queue), else the same CSV file with lines added at
// its end since (the campaign's list grown) — its users are that campaign's all the
// same, and a new report would call them again.
func priorReports(dir string, now records.Input) prior {
	if found := records.ReportsOf(dir, now); len(found) > 0 {
		what := "the same " + now.String()
		if now.Source == records.InputCSV {
			what = "the same CSV (same SHA-256 digest)"
		}
		return prior{found: found, what: what}
	}
	if now.Source != records.InputCSV || now.CSV == "-" || now.SHA256 == "" {
		return prior{}
	}
	type edited struct {
		report string
		rec    records.Input
	}
	var out []edited
	recs, _ := filepath.Glob(filepath.Join(dir, "*.input"))
	for _, r := range recs {
		report := strings.TrimSuffix(r, ".input")
		rec, ok, err := records.ReadInput(report)
		if err != nil || !ok || rec.Source != records.InputCSV || rec.CSV != now.CSV || !fileExists(report) {
			continue
		}
		// Only a list that still begins with that campaign's bytes is that campaign
		// grown (the README's way to add work): a list replaced or edited in place at
		// the same path is another campaign's (the Kubernetes Job's next ConfigMap).
		if rec.CSVRelation(now.CSV) != "appended" {
			continue
		}
		if dir == "." {
			report = filepath.Base(report)
		}
		out = append(out, edited{report, rec})
	}
	if len(out) == 0 {
		return prior{}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].rec.Recorded > out[j].rec.Recorded })
	p := prior{grown: true}
	for _, e := range out {
		p.found = append(p.found, e.report)
	}
	p.what = fmt.Sprintf("the same CSV path (%s), which has grown since it was made (%d bytes then, %d now: "+
		"lines were added at its end)", now.CSV, out[0].rec.Size, now.Size)
	return p
}

// othersOf words the reports found after the first.
func othersOf(found []string) string {
	if len(found) < 2 {
		return ""
	}
	return fmt.Sprintf(" (and %d more: %s)", len(found)-1, strings.Join(found[1:], ", "))
}

// sameInputMsg refuses to start the report path under --start-if-missing when the
// reports p.found (newest first) were made from the same input.
func sameInputMsg(path string, p prior) string {
	same := p.found
	msg := fmt.Sprintf("the report %s does not exist, but the report %s%s beside it was made from %s: "+
		"starting %s would call its users a second time. Nothing was sent. To continue that campaign: --resume "+
		"--report %s", path, same[0], othersOf(same), p.what, path, same[0])
	if p.grown {
		msg += " (the lines with rows are skipped, lines added at the CSV's end are sent)"
	}
	msg += "; to start over on purpose (every user is called again): drop --resume --start-if-missing"
	return msg
}

// closeReport is the report in dir whose name is closest to path's ("" if none is close).
func closeReport(dir, path string) string {
	recs, _ := filepath.Glob(filepath.Join(dir, "*.input"))
	var names []string
	for _, r := range recs {
		if report := strings.TrimSuffix(r, ".input"); fileExists(report) {
			names = append(names, filepath.Base(report))
		}
	}
	best := config.Closest(filepath.Base(path), names)
	if best == "" || dir == "." {
		return best
	}
	return filepath.Join(dir, best)
}

func fileExists(path string) bool { _, err := os.Stat(path); return err == nil }
