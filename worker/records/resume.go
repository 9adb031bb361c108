package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// ResumeState is what earlier runs of a campaign recorded in its report and ledger.
type ResumeState struct {
	// Final holds the usernames that have a final row: they are never called again.
	Final *admit.Set
	// Done holds the source refs (CSV lines) that have a row: they get no second row.
	Done *admit.Set
	// Unknown are intents with no row: the process stopped between the call and its
	// row. Unless --retry-unknown, they are reported `unknown` and not called.
	Unknown []LedgerRecord
	// Rows is the number of valid rows read; Skipped counts torn or foreign lines.
	Rows, Skipped int
	// Tally counts the rows by status, a retried user's last row replacing its earlier
	// one: the campaign so far, for the summary.
	Tally *Tally
}

// ResumeOptions says how earlier rows count.
type ResumeOptions struct {
	// RetryUnknown: `unknown` rows don't count as final; those users are called again.
	RetryUnknown bool
	// Redelivers: the source redelivers what it wants retried (SQS), so only conclusive
	// rows (Status.Conclusive) make a user final. A message left for a retry (failed
	// after throttles, limit_exceeded) must not come back as a duplicate and be deleted.
	Redelivers bool
	// Case is how usernames compare (default admit.CaseInsensitive).
	Case admit.Case
}

// LoadResume reads a campaign's report and ledger.
func LoadResume(reportPath string, opts ResumeOptions) (*ResumeState, error) {
	if _, err := FormatForPath(reportPath); err != nil {
		return nil, err
	}
	if _, err := os.Stat(reportPath); err != nil {
		return nil, fmt.Errorf("--resume needs the campaign's report: %w", err)
	}
	st := &ResumeState{Final: admit.NewSet(opts.Case), Done: admit.NewSet(admit.CaseSensitive), Tally: NewTally()}
	var err error
	st.Rows, st.Skipped, err = ReadRows(reportPath, func(row job.Result) {
		st.Tally.Add(row)
		if opts.RetryUnknown && row.Status == job.StatusUnknown {
			return // called again; its line gets a second, final row
		}
		st.Done.Add(row.SourceRef)
		if !opts.Redelivers || row.Status.Conclusive() {
			st.Final.Add(row.Username)
		}
	})
	if err != nil {
		return nil, err
	}

	// Ledger: keep only intents without a row (a small set), in file order.
	lf, err := os.Open(LedgerPath(reportPath))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	defer lf.Close()
	pending := map[string]LedgerRecord{}
	var order []string
	err = eachLine(lf, func(_ int, line []byte, _ bool) {
		var rec LedgerRecord
		if json.Unmarshal(line, &rec) != nil || rec.SourceRef == "" {
			return // torn
		}
		if st.Done.Has(rec.SourceRef) {
			return
		}
		switch rec.Event {
		case LedgerStart:
			if _, ok := pending[rec.SourceRef]; !ok {
				order = append(order, rec.SourceRef)
			}
			pending[rec.SourceRef] = rec
		case LedgerAbandon:
			delete(pending, rec.SourceRef)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	for _, ref := range order {
		if rec, ok := pending[ref]; ok {
			st.Unknown = append(st.Unknown, rec)
			delete(pending, ref)
		}
	}
	return st, nil
}

// UnknownResult is the report row of an intent without an outcome.
func UnknownResult(rec LedgerRecord, clk clock.Clock) job.Result {
	t := clock.Or(clk).Now().UTC()
	return job.Result{Username: rec.Username, Status: job.StatusUnknown, SourceRef: rec.SourceRef,
		ErrorCode: "Unknown",
		ErrorMessage: "the run stopped after the call was started and before its outcome was recorded; " +
			"the user may have received a code. Not called again (use --retry-unknown to call)",
		StartedAt: t, FinishedAt: t, Class: job.ClassPerUser}
}
