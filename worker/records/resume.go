package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// ResumeState is what earlier runs of a campaign recorded in its report and ledger, read
// under the supersede rule: the report is append-only, so a line (source_ref) or a user
// can have several rows, and the latest by file order is the one that counts — for what
// is skipped, who is final and who --retry-failed calls — while Tally counts each line
// once by its last row. LoadResume applies the rule to every row of the report (Record),
// and a resumed CSV or pool run to every row it adds, so the census, the skips and the
// campaign's counts agree.
type ResumeState struct {
	// Final holds the usernames whose latest row settles them: they are never called
	// again. Each is tagged with that row's admit.RefTag, which a duplicate names.
	Final *admit.Set
	// lines holds every source ref with a row, tagged with its latest row (tagStatus…),
	// and every source ref with a row (or an intent) with a fingerprint of its username:
	// what binds the report to its input line by line (Matches).
	lines *lineBook
	seed  maphash.Seed
	path  string // the report
	// Unknown are intents with no row: the process stopped between the call and its
	// row. Unless --retry-unknown, they are reported `unknown` and not called.
	Unknown []LedgerRecord
	// Retry is the number of lines whose latest row is to be called again
	// (--retry-failed: failed, limit_exceeded past its hour; --retry-unknown: unknown).
	Retry int
	// LimitWaiting counts the lines whose latest row is limit_exceeded within its hour;
	// LimitDue is when the last of them is past it.
	LimitWaiting int
	LimitDue     time.Time
	// WindowSent counts the rows of the daily budget's current window (ResumeOptions.Window)
	// that are sends, or may be (sent, unknown): what a restart has already spent.
	WindowSent int
	// Rows is the number of valid rows read; Skipped counts torn or foreign lines.
	Rows, Skipped int
	// Tally counts the rows by status, a retried user's last row replacing its earlier
	// one: the campaign so far, for the summary.
	Tally *Tally

	opts ResumeOptions
}

// ResumeOptions says how earlier rows count.
type ResumeOptions struct {
	// RetryUnknown: `unknown` rows don't count as final; those users are called again.
	RetryUnknown bool
	// RetryFailed: `failed` rows, and `limit_exceeded` rows once job.LimitWindow has
	// passed (job.Result.RetryDue at Now), don't count as final; those users are called
	// again.
	RetryFailed bool
	// Invitations (--invitations): `not_eligible` rows of admin-created users (error_code
	// FORCE_CHANGE_PASSWORD, written by a run without --invitations, whose reason says
	// "run with --invitations") don't count as final; those users are checked again and
	// invited.
	Invitations bool
	// Now is when the campaign resumes (RetryFailed's clock).
	Now time.Time
	// Redelivers: the source redelivers what it wants retried (SQS), so only conclusive
	// rows (Status.Conclusive) make a user final. A message left for a retry (failed
	// after throttles, limit_exceeded) must not come back as a duplicate and be deleted.
	Redelivers bool
	// Case is how usernames compare (default admit.CaseInsensitive).
	Case admit.Case
	// CSVLines: the source refs are a CSV's line numbers, kept in arrays indexed by line
	// (lineBook): 5 bytes a line instead of ~30.
	CSVLines bool
	// Window is when the daily budget's current window began (zero: no budget): the
	// rows finished since count toward WindowSent.
	Window time.Time
}

// A line's tag: the status Tally counts for it (its latest row's, under the supersede
// rule; its index in job.Statuses plus one),
// whether that row's user is called again, whether it is a limit_exceeded within its
// hour, and how many of its rows closed an intent (the count LoadResume pairs with the
// ledger's start records).
const (
	tagStatusMask = 0x3f // room for 62 statuses
	tagRetry      = 1 << 6
	tagWaiting    = 1 << 7
	tagCallShift  = 8
	tagMaxCalls   = 1<<(32-tagCallShift) - 1
)

func statusTag(s job.Status) uint32 {
	for i, st := range job.Statuses {
		if st == s {
			return uint32(i + 1)
		}
	}
	return 0
}

func tagStatus(tag uint32) job.Status {
	if i := int(tag & tagStatusMask); i > 0 && i <= len(job.Statuses) {
		return job.Statuses[i-1]
	}
	return ""
}

// admitRow: the admit rule wrote row without a job behind it (a duplicate, input that
// isn't a username): it closes no intent and says nothing of its user. Every other row
// is the outcome of a job that recorded an intent (a call, or the `unknown` row of an
// intent without one).
func admitRow(row job.Result) bool {
	return row.Status == job.StatusDuplicate ||
		(row.Status == job.StatusInvalidInput && row.ErrorCode == admit.InvalidInputCode)
}

// retries reports whether the user of row, its latest, is called again.
func (st *ResumeState) retries(row job.Result) bool {
	return (st.opts.RetryUnknown && row.Status == job.StatusUnknown) ||
		(st.opts.RetryFailed && row.RetryDue(st.opts.Now)) ||
		(st.opts.Invitations && row.Status == job.StatusNotEligible && row.ErrorCode == codeForceChangePassword)
}

// codeForceChangePassword is the error_code of an admin-created user's not_eligible row
// (Cognito's UserStatus, as userpool.Judge writes it).
const codeForceChangePassword = "FORCE_CHANGE_PASSWORD"

// Record applies the supersede rule to row, the latest of its line and (if it speaks for
// them) of its user.
func (st *ResumeState) Record(row job.Result) {
	if !st.opts.Window.IsZero() && (row.Status == job.StatusSent || row.Status == job.StatusUnknown) &&
		!row.FinishedAt.Before(st.opts.Window) {
		st.WindowSent++
	}
	retry := st.retries(row)
	old, had := st.lines.tag(row.SourceRef)
	counted := st.count(row, old, had)
	if had {
		if old&tagRetry != 0 {
			st.Retry--
		}
		if old&tagWaiting != 0 {
			st.LimitWaiting--
		}
	}
	calls := old >> tagCallShift
	if !admitRow(row) && calls < tagMaxCalls {
		calls++
	}
	tag := statusTag(counted) | calls<<tagCallShift
	if retry {
		tag |= tagRetry
		st.Retry++
	}
	if row.Status == job.StatusLimitExceeded && !row.RetryDue(st.opts.Now) {
		tag |= tagWaiting
		st.LimitWaiting++
		if due := row.LimitDue(); due.After(st.LimitDue) {
			st.LimitDue = due
		}
	}
	st.lines.setTag(row.SourceRef, tag)
	st.lines.setFingerprint(row.SourceRef, st.fingerprint(row.Username))
	if admitRow(row) {
		return
	}
	if !retry && (!st.opts.Redelivers || row.Status.Conclusive()) {
		st.Final.Put(row.Username, admit.RefTag(row.SourceRef))
	} else {
		st.Final.Remove(row.Username)
	}
}

// count folds row into Tally under the supersede rule and returns the status its line
// now counts (old, had: the line's tag).
func (st *ResumeState) count(row job.Result, old uint32, had bool) job.Status {
	if row.SourceRef == "" {
		st.Tally.Add(row)
		return row.Status
	}
	return st.Tally.fold(tagStatus(old), had, row.Status)
}

// Count folds row into Tally alone, under the supersede rule: a queue worker's rows,
// whose lines are not skipped nor their users settled by Record.
func (st *ResumeState) Count(row job.Result) {
	old, had := st.lines.tag(row.SourceRef)
	counted := st.count(row, old, had)
	if row.SourceRef != "" {
		st.lines.setTag(row.SourceRef, old&^tagStatusMask|statusTag(counted))
	}
}

// Done reports whether the line ref has a row that settles it: a finite source skips it.
func (st *ResumeState) Done(ref string) bool {
	tag, ok := st.lines.tag(ref)
	return ok && tag&tagRetry == 0
}

// Retrying reports whether the line ref has a row and its user is called again.
func (st *ResumeState) Retrying(ref string) bool {
	tag, ok := st.lines.tag(ref)
	return ok && tag&tagRetry != 0
}

// Matches reports whether the line ref names username as the report's rows (or intents)
// for that line do; a line without either matches anything (it is new work). Usernames
// compare exactly: a line is the same line only if it is the same text.
func (st *ResumeState) Matches(ref, username string) bool {
	fp, ok := st.lines.fingerprint(ref)
	return !ok || fp == st.fingerprint(username)
}

// RowUsername is the username of the latest row (or intent) of the line ref, read
// again from the report and its ledger: for the error that Matches found a difference.
func (st *ResumeState) RowUsername(ref string) string {
	name := ""
	_, _, _ = ReadRows(st.path, func(row job.Result) {
		if row.SourceRef == ref {
			name = row.Username
		}
	})
	if name != "" {
		return name
	}
	for _, u := range st.Unknown {
		if u.SourceRef == ref {
			return u.Username
		}
	}
	return name
}

// fingerprint is 32 bits of a username's hash, never 0 (lineBook's "none"): a
// different user at a line goes unnoticed once in four billion, and a million lines
// cost 4 MB.
func (st *ResumeState) fingerprint(username string) uint32 {
	return max(uint32(maphash.String(st.seed, username)), 1)
}

// Lines is the number of lines with a row.
func (st *ResumeState) Lines() int { return st.lines.len() }

// LoadResume reads a campaign's report and ledger.
func LoadResume(reportPath string, opts ResumeOptions) (*ResumeState, error) {
	if _, err := FormatForPath(reportPath); err != nil {
		return nil, err
	}
	if _, err := os.Stat(reportPath); err != nil {
		return nil, fmt.Errorf("--resume needs the campaign's report: %w", err)
	}
	st := &ResumeState{Final: admit.NewSet(opts.Case), lines: newLineBook(opts.CSVLines),
		seed: maphash.MakeSeed(), path: reportPath,
		Tally: NewTally(), opts: opts}
	var err error
	st.Rows, st.Skipped, err = ReadRows(reportPath, st.Record)
	if err != nil {
		return nil, err
	}

	// Ledger: an intent is pending when its line has more start records (less abandons)
	// than rows that closed one; keep only those (a small set), in file order. Each start
	// uses up one closing row of its line, or is pending; an abandon cancels a pending
	// start, or gives its row back: the same as comparing the counts at the end.
	lf, err := os.Open(LedgerPath(reportPath))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	defer lf.Close()
	pending := map[string][]LedgerRecord{}
	var order []string
	useRow := func(ref string, delta int) bool {
		tag, ok := st.lines.tag(ref)
		calls := int(tag >> tagCallShift)
		if !ok || calls+delta < 0 || calls+delta > tagMaxCalls {
			return false
		}
		st.lines.setTag(ref, tag&(1<<tagCallShift-1)|uint32(calls+delta)<<tagCallShift)
		return true
	}
	err = eachLine(lf, func(_ int, line []byte, _ bool) {
		var rec LedgerRecord
		if json.Unmarshal(line, &rec) != nil || rec.SourceRef == "" {
			return // torn
		}
		switch rec.Event {
		case LedgerStart:
			if _, ok := st.lines.fingerprint(rec.SourceRef); !ok {
				st.lines.setFingerprint(rec.SourceRef, st.fingerprint(rec.Username))
			}
			if useRow(rec.SourceRef, -1) {
				return
			}
			if _, ok := pending[rec.SourceRef]; !ok {
				order = append(order, rec.SourceRef)
			}
			pending[rec.SourceRef] = append(pending[rec.SourceRef], rec)
		case LedgerAbandon:
			if p := pending[rec.SourceRef]; len(p) > 0 {
				pending[rec.SourceRef] = p[:len(p)-1]
				return
			}
			useRow(rec.SourceRef, +1)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	for _, ref := range order {
		if p := pending[ref]; len(p) > 0 {
			st.Unknown = append(st.Unknown, p[len(p)-1])
			delete(pending, ref)
		}
	}
	return st, nil
}

// UnknownResult is the report row of an intent without an outcome.
func UnknownResult(rec LedgerRecord, clk clock.Clock) job.Result {
	t := clock.Must(clk, "records.UnknownResult").Now().UTC()
	return job.Result{Username: rec.Username, Status: job.StatusUnknown, SourceRef: rec.SourceRef, Message: rec.Message,
		ErrorCode: "Unknown",
		ErrorMessage: "the run stopped after the call was started and before its outcome was recorded; " +
			"the user may have received " + rec.Message.Noun() + ". Not called again (use --retry-unknown to call)",
		StartedAt: t, FinishedAt: t, Class: job.ClassPerUser}
}
