package campaign

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
)

// bindTableReset holds every process on a ledger table to one --budget-reset: the
// table records the reset of the first campaign with --daily-budget on it
// (dynamoledger.Budget.BindReset). A process with another reset is refused while any
// send is counted in a window of the recorded reset that its own current window
// overlaps — two resets on one counter would each count a budget's worth the same day
// (trial 4: --daily-budget 2, resets 00:00 and 06:00, 4 sent in one hour). When none
// is, the table's reset moves to this process's, said in the log.
// With dry (the dry run's and the prompt's plan) it records and moves nothing: it only
// refuses what the run would.
func (c *Campaign) bindTableReset(ctx context.Context, table *dynamoledger.Ledger, log *slog.Logger, dry bool) error {
	if c.cfg.DailyBudget <= 0 || table == nil {
		return nil
	}
	mine := c.cfg.Schedule()
	b := table.Budget()
	var rec dynamoledger.ResetRecord
	var err error
	if dry {
		rec, err = b.ReadReset(ctx)
	} else {
		rec, err = b.BindReset(ctx, mine.HHMM())
	}
	if err != nil {
		return fmt.Errorf("ledger table %s: the daily budget's reset: %w", c.cfg.LedgerTable, err)
	}
	if rec.Reset == "" { // dry, and none recorded yet: this run's would be
		return nil
	}
	was, err := budget.ParseReset(rec.Reset)
	if err != nil || was == mine {
		return err
	}
	now := c.clock.Now()
	spent, from, last := 0, time.Time{}, time.Time{}
	for _, w := range mine.Overlapping(was, now) {
		n, err := b.Spent(ctx, w)
		if err != nil {
			return fmt.Errorf("ledger table %s: the daily budget's count: %w", c.cfg.LedgerTable, err)
		}
		if n > 0 {
			from = cmp.Or(from, w)
			last = w
		}
		spent += n
	}
	if spent == 0 && dry {
		return nil // the run would move it
	}
	if spent == 0 {
		moved, err := b.MoveReset(ctx, rec.Reset, mine.HHMM())
		if err != nil {
			return fmt.Errorf("ledger table %s: the daily budget's reset: %w", c.cfg.LedgerTable, err)
		}
		if moved {
			log.Warn("the ledger table's daily budget reset moves: no send is counted in a window of the old reset "+
				"that this one overlaps; every process on the table now needs the new reset",
				"ledger_table", c.cfg.LedgerTable, "table_budget_reset", rec.Reset, "budget_reset", mine.HHMM())
			return nil
		}
		return c.bindTableReset(ctx, table, log, false) // moved by another process meanwhile: compare with that
	}
	myStart, _ := mine.Window(now)
	return &config.FieldError{Field: "budget-reset", Msg: fmt.Sprintf("%s%s is not the reset of the daily budget "+
		"shared on the ledger table %s: its windows begin at %s (recorded %s by the first campaign with a daily "+
		"budget on it), and %d sends are counted in its window from %s, which this process's window (from %s) "+
		"overlaps: two resets on one table would each count a budget's worth the same day. Nothing was sent. Give "+
		"every process on the table --budget-reset %s. To move the table's reset, send nothing with the old one "+
		"after its window with sends; the new reset is then accepted from %s, the first window of it that begins "+
		"after that one ends (docs/long-campaigns.md)", mine, c.originNote("budget-reset"), c.cfg.LedgerTable, was,
		rec.Since.UTC().Format(time.RFC3339), spent, from.UTC().Format(time.RFC3339), myStart.UTC().Format(time.RFC3339),
		was.HHMM(), firstAtOrAfter(mine, last.AddDate(0, 0, 1)).UTC().Format(time.RFC3339))}
}

// firstAtOrAfter is the start of s's first window that begins at or after t.
func firstAtOrAfter(s budget.Schedule, t time.Time) time.Time {
	start, next := s.Window(t)
	if start.Equal(t) {
		return start
	}
	return next
}

// originNote names where option key came from when it was not its flag: " (from
// COGNITO_RESEND_BUDGET_RESET)", " (from the config file c.yaml)"; "" for the flag.
func (c *Campaign) originNote(key string) string {
	if o := c.cfg.Origin(key); o != "--"+key {
		return " (from " + o + ")"
	}
	return ""
}

// optionAt names option key where the operator set it: "--budget-reset",
// "COGNITO_RESEND_BUDGET_RESET", "budget-reset in the config file c.yaml".
func (c *Campaign) optionAt(key string) string {
	o := c.cfg.Origin(key)
	if strings.HasPrefix(o, "the config file") {
		return key + " in " + o
	}
	return o
}
