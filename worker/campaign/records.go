package campaign

import (
	"errors"
	"log/slog"

	"github.com/cognito-resend/cognito-resend/worker/records"
)

// openRecords opens the campaign's durable state: the report (outcomes) and its ledger
// (intents), appending when resuming; in queue mode with rotation, the pair rotates by
// size in the engine's writer goroutine, after a group of rows is durable.
func (c *Campaign) openRecords(r *resumed, log *slog.Logger) (records.Writer, *records.Ledger, error) {
	resume := r.state != nil
	if records.ModeNote != "" {
		log.Warn(records.ModeNote, "report", c.reportPath)
	}
	report, err := records.OpenReport(c.reportPath, resume)
	if err != nil {
		return nil, nil, err
	}
	ledger, err := records.OpenLedger(records.LedgerPath(c.reportPath), resume, c.clock)
	if err != nil {
		return nil, nil, errors.Join(err, report.Close())
	}
	if size := c.cfg.ReportRotateSize(); size > 0 {
		rotating, err := records.NewRotatingReport(c.reportPath, report, records.RotateOptions{
			MaxSize: size, Keep: c.cfg.ReportKeep, Journal: ledger, Logger: log, Clock: c.clock})
		if err != nil {
			return nil, nil, errors.Join(err, report.Close(), ledger.Close())
		}
		report = rotating
	}
	return report, ledger, nil
}
