package campaign

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/cognito-resend/cognito-resend/worker/records"
)

// openRecords opens the campaign's durable state: the report (outcomes) and, unless the
// ledger is a table (fileLedger false), its file ledger (intents), appending when
// resuming; in queue mode with rotation, the report (and its ledger) rotate by size in
// the engine's writer goroutine, after a group of rows is durable.
func (c *Campaign) openRecords(r *resumed, log *slog.Logger, fileLedger bool) (records.Writer, *records.IntentLog, error) {
	resume := r.state != nil
	if records.ModeNote != "" {
		log.Warn(records.ModeNote, "report", c.reportPath)
	}
	report, err := records.OpenReport(c.reportPath, resume)
	if err != nil {
		return nil, nil, err
	}
	if err := c.recordInput(!resume); err != nil {
		return nil, nil, errors.Join(err, report.Close())
	}
	if !fileLedger {
		return c.rotating(report, nil, log)
	}
	ledger, err := records.OpenLedger(records.LedgerPath(c.reportPath), resume, c.clock)
	if err != nil {
		err = errors.Join(err, report.Close())
		if !resume {
			// Created just now (O_EXCL), empty: leave nothing behind.
			_ = os.Remove(c.reportPath)
			_ = os.Remove(records.InputPath(c.reportPath))
		}
		return nil, nil, err
	}
	return c.rotating(report, ledger, log)
}

// rotating makes the report (with its ledger, when not nil) rotate by size in queue
// mode.
func (c *Campaign) rotating(report records.Writer, ledger *records.IntentLog, log *slog.Logger) (records.Writer, *records.IntentLog, error) {
	size := c.cfg.ReportRotateSize()
	if size <= 0 {
		return report, ledger, nil
	}
	opts := records.RotateOptions{MaxSize: size, Keep: c.cfg.ReportKeep, Logger: log, Clock: c.clock}
	if ledger != nil {
		opts.Journal = ledger
	}
	rotating, err := records.NewRotatingReport(c.reportPath, report, opts)
	if err != nil {
		err = errors.Join(err, report.Close())
		if ledger != nil {
			err = errors.Join(err, ledger.Close())
		}
		return nil, nil, err
	}
	return rotating, ledger, nil
}

// lockReport takes the report's lock (records.LockReport) for the campaign's life, once:
// a second run on the same report is a usage error before the prompt. A dry run takes
// it only when it reads a report (it writes none).
func (c *Campaign) lockReport() error {
	if c.lock != nil {
		return nil
	}
	if c.cfg.DryRun && !existsPath(c.reportPath) {
		return nil
	}
	if st, err := os.Stat(filepath.Dir(c.reportPath)); err != nil || !st.IsDir() {
		return nil // checkReport says what is wrong with the directory
	}
	l, err := records.LockReport(c.reportPath, c.started)
	if err != nil {
		return err
	}
	if c.rerunInput != nil {
		_ = l.RecordInput(*c.rerunInput) // best effort: without it a second run is refused after its listing
	}
	c.lock = l
	return nil
}
