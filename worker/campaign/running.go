package campaign

import (
	"fmt"
	"path/filepath"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// checkRunning refuses a run with --report (or --resume) while another run of the same
// CSV or pool holds a report in that directory: the report's lock stops a second run on
// that report, but another --report started the campaign over beside the first and
// called every user twice (trial 4: the lock refusal's own advice). The run records its
// input in its lock (lockReport) for the runs after it. Without --report checkRerun does
// this; a queue is left alone (a message is deleted once done), so are --ledger-table
// (its claims settle a user once) and standard input (no digest). A dry run warns.
func (c *Campaign) checkRunning() error {
	cfg := c.cfg
	if c.rerunInput != nil || cfg.LedgerTable != "" || cfg.Lambda || cfg.SQSQueueURL != "" || cfg.CSV == "-" ||
		(cfg.CSV == "" && cfg.UserPoolID == "") {
		return nil // checked (by checkRerun, or an earlier Prepare), or not this rule's
	}
	now := c.input()
	if now.Source == records.InputCSV {
		var err error
		if now, err = records.CSVInput(cfg.CSV); err != nil {
			return nil // the source's own open says what is wrong
		}
	}
	c.rerunInput = &now // in this run's lock: a run of the same input started next is refused at once
	running := records.RunningOf(filepath.Dir(c.reportPath), now, c.reportPath)
	if len(running) == 0 {
		return nil
	}
	r := running[0]
	err := &config.FieldError{Field: "report", Msg: fmt.Sprintf("a run from %s is in progress (%s, report %s): "+
		"another report of it now would call its users a second time, at the same moment. Wait for it to end, or stop "+
		"it (Ctrl-C where it runs, or kill -TERM on its pid); to continue that campaign then: --resume --report %s",
		now.String(), r.Holder, r.Report, r.Report)}
	if cfg.DryRun {
		c.log.Warn("the run would be refused: " + err.Error())
		return nil
	}
	return err
}
