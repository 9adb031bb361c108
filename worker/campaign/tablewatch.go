package campaign

import (
	"context"
	"fmt"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/engine"
)

// tableWatchInterval is how often a queue worker checks its ledger table while it runs:
// a table deleted under an idle worker ends it within about this long (a busy one fails
// its next claim sooner).
const tableWatchInterval = 20 * time.Second

// tableGoneError ends a queue worker whose ledger table answered that it can't be used
// any more (deleted, or replaced by another schema).
type tableGoneError struct {
	table string
	err   error
}

func (e *tableGoneError) Error() string {
	return fmt.Sprintf("ledger table %s can't be used any more (deleted?): %v; no user can be claimed", e.table, e.err)
}
func (e *tableGoneError) Unwrap() error { return e.err }

// watchTable checks a queue worker's ledger table every tableWatchInterval while the run
// lasts: a worker runs for days and may be idle for hours, when no claim would find out.
// A table that answers that it is missing or unusable ends the run (exit 3); one that
// does not answer is left to the claims (the first that fails stops the worker).
func (c *Campaign) watchTable(run context.Context, abort context.CancelCauseFunc, l engine.Ledger) {
	checker, ok := l.(interface{ Check(context.Context) error })
	if c.cfg.SQSQueueURL == "" || !ok {
		return
	}
	go func() {
		t := c.clock.NewTicker(tableWatchInterval)
		defer t.Stop()
		for {
			select {
			case <-run.Done():
				return
			case <-t.Chan():
			}
			ctx, cancel := clock.WithTimeout(run, c.clock, startCheckTimeout)
			err := checker.Check(ctx)
			answered := err != nil && !noAnswer(ctx, err)
			cancel()
			if answered && run.Err() == nil {
				c.log.Error("the ledger table can't be used any more: stopping this worker", "ledger_table",
					c.cfg.LedgerTable, "error", err)
				abort(&tableGoneError{table: c.cfg.LedgerTable, err: err})
				return
			}
		}
	}()
}
