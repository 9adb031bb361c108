package main

import (
	"errors"
	"log/slog"
	"os"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker"
)

// records are the campaign's durable state: the report (outcomes) and its ledger
// (intents), plus the dedupe set seeded from earlier runs when resuming.
type records struct {
	report worker.ReportWriter
	ledger *worker.Ledger
	seen   *worker.SeenSet
}

// resumeState reads what earlier runs of the campaign recorded, or returns nil when
// there is nothing to resume: no --resume, or no report yet (the campaign starts).
// Users left unknown are not to be called (unless --retry-unknown): their users and
// lines count as done, for the preflight count as for the run, which reports them.
func resumeState(cfg config.Config, reportPath string, queue bool) (*worker.ResumeState, error) {
	if !cfg.Resume {
		return nil, nil
	}
	if _, err := os.Stat(reportPath); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	st, err := worker.LoadResume(reportPath, worker.ResumeOptions{RetryUnknown: cfg.RetryUnknown, Queue: queue})
	if err != nil {
		return nil, err
	}
	if !cfg.RetryUnknown {
		for _, u := range st.Unknown {
			st.Final.Add(u.Username)
			st.Done.Add(u.SourceRef)
		}
	}
	return st, nil
}

// skipRecorded makes a finite source (CSV lines, pool users) skip what already has a
// row. A queue redelivers instead: its duplicates are settled by the dedupe set.
func (s *source) skipRecorded(st *worker.ResumeState) {
	if !s.signalIsNormal {
		s.src = &worker.SkipDone{Source: s.src, Done: st.Done}
	}
}

// openRecords opens report and ledger. With --resume it first reads what earlier runs
// recorded: users with a final row are not called again, CSV lines with a row are
// skipped, and intents without a row are reported `unknown` (unless --retry-unknown).
func openRecords(cfg config.Config, reportPath string, s *source, log *slog.Logger) (*records, error) {
	r := &records{seen: worker.NewSeenSet()}
	state, err := resumeState(cfg, reportPath, s.signalIsNormal)
	if err != nil {
		return nil, err
	}
	resume := state != nil
	if cfg.Resume && !resume {
		// Nothing to resume yet: start the campaign. This makes a retried Job with
		// --resume on a persistent volume safe from its very first run.
		log.Info("no report yet: starting the campaign", "report", reportPath)
	}
	if resume {
		r.seen = state.Final
		s.skipRecorded(state)
		log.Info("resuming campaign", "report", reportPath, "rows", state.Rows,
			"final_users", state.Final.Len(), "unknown", len(state.Unknown), "torn_lines", state.Skipped)
	}
	report, err := worker.OpenReport(reportPath, resume)
	if err != nil {
		return nil, err
	}
	ledger, err := worker.OpenLedger(worker.LedgerPath(reportPath), resume, nil)
	if err != nil {
		return nil, errors.Join(err, report.Close())
	}
	if size := cfg.ReportRotateSize(); size > 0 {
		// Long-lived queue workers: the report and its ledger rotate by size, in the
		// engine's writer goroutine, after a group of rows is durable.
		rotating, err := worker.NewRotatingReport(reportPath, report, worker.RotateOptions{
			MaxSize: size, Keep: cfg.ReportKeep, Journal: ledger, Logger: log})
		if err != nil {
			return nil, errors.Join(err, report.Close(), ledger.Close())
		}
		report = rotating
	}
	r.report, r.ledger = report, ledger
	if state != nil && !cfg.RetryUnknown && len(state.Unknown) > 0 {
		clock := worker.SystemClock()
		for _, u := range state.Unknown {
			if err := report.Write(worker.UnknownResult(u, clock)); err != nil {
				return nil, errors.Join(err, report.Close(), ledger.Close())
			}
		}
		if err := report.Sync(); err != nil {
			return nil, errors.Join(err, report.Close(), ledger.Close())
		}
		log.Warn("users reported unknown: their call may have reached Cognito; not calling them again",
			"count", len(state.Unknown))
	}
	return r, nil
}
