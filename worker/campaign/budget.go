package campaign

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// window is when the daily budget's current window began (zero without --daily-budget).
func (c *Campaign) window() time.Time {
	if c.cfg.DailyBudget <= 0 {
		return time.Time{}
	}
	start, _ := c.cfg.Schedule().Window(c.clock.Now())
	return start
}

// newBudget is the run's daily budget: counted in the ledger table when the campaign has
// one (every campaign and replica on it share the budget), else in this process, seeded
// with the sends the report already holds for the current window. Without
// --daily-budget it counts nothing but still says when the next window opens (the wait
// after Cognito's daily cap).
func (c *Campaign) newBudget(r *resumed, table *dynamoledger.Ledger) *budget.Budget {
	b := &budget.Budget{Limit: c.cfg.DailyBudget, Schedule: c.cfg.Schedule(), Clock: c.clock}
	switch {
	case b.Limit <= 0:
	case table != nil:
		b.Counter = table.Budget()
	default:
		spent := 0
		if r.state != nil {
			spent = r.state.WindowSent
		}
		b.Counter = budget.NewLocal(c.window(), spent)
	}
	return b
}

// BudgetPlan is what --daily-budget makes of a campaign of n sends, for the dry run and
// the prompt.
type BudgetPlan struct {
	Limit, Spent int       // the budget, and what the current window has spent
	Next         time.Time // when the next window opens
	Windows      int       // windows the campaign sends in (this one, unless it is spent)
	Last         time.Time // when the last of them opens (the current one's start if it is the only one)
	Reset        string    // --budget-reset, "HH:MM UTC"
	From         string    // where the budget came from when it is not plain --daily-budget (Campaign.BudgetFrom)
}

// BudgetPlan is the plan of n sends under --daily-budget (nil without one).
func (c *Campaign) BudgetPlan(ctx context.Context, n int) (*BudgetPlan, error) {
	if c.cfg.DailyBudget <= 0 {
		if c.cfg.Given("daily-budget") { // 0 said out loud: the plan says "none"
			return &BudgetPlan{From: c.budgetFrom}, nil
		}
		return nil, nil
	}
	r, err := c.resume(c.cfg.SQSQueueURL != "")
	if err != nil {
		return nil, err
	}
	var table *dynamoledger.Ledger
	if c.cfg.LedgerTable != "" {
		if table, err = c.newTable(slog.New(slog.DiscardHandler), nil); err != nil {
			return nil, err
		}
		// The run's refusal of another reset than the table's, said before it (nothing recorded).
		if err := c.bindTableReset(ctx, table, c.log, true); err != nil {
			return nil, err
		}
	}
	b := c.newBudget(r, table)
	start, next, spent, err := b.Status(ctx)
	if err != nil {
		return nil, err
	}
	windows, last := budget.Windows(n, b.Limit, spent)
	return &BudgetPlan{Limit: b.Limit, Spent: spent, Next: next, Windows: windows, Reset: b.Schedule.String(),
		Last: start.AddDate(0, 0, last), From: c.budgetFrom}, nil
}

// sendsLeft is how many of the users to send the run left without a row (-1: not
// counted), for the windows the rest takes: the rows left (total, the census's, less the
// rows written) less the invalid and duplicate rows among them, which take no budget —
// as the resume's dry run counts them.
func (c *Campaign) sendsLeft(total int, sum *engine.Summary) int {
	if total < 0 || c.census == nil || sum == nil {
		return -1
	}
	left := total - sum.Rows
	left -= max(c.census.Invalid-sum.Counts[job.StatusInvalidInput], 0)
	left -= max(c.census.Duplicates-sum.Counts[job.StatusDuplicate], 0)
	return max(left, 0)
}

// idler is the queue source's side of the budget's pause (*sqssource.Source).
type idler interface {
	Idle(reason string, until time.Time)
	Wake()
}

// budgetPause keeps a queue worker from receiving while the daily budget is spent (or
// Cognito's daily cap answered): the messages stay in the queue, not one more receive
// counted towards the dead-letter queue, /readyz stays ready, and receiving goes on
// when the next window opens (the clock's timer).
type budgetPause struct {
	src   idler
	clock clock.Clock
	log   *slog.Logger
	// onPause observes each pause (the metrics' reset gauge).
	onPause func(next time.Time)

	mu    sync.Mutex
	until time.Time // the next window: idle until then (zero: receiving)
	timer clock.Timer
}

// spent idles the source until se.Next (once per window: the jobs in hand each report it).
func (p *budgetPause) spent(se *budget.SpentError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !se.Next.After(p.until) {
		return
	}
	p.until = se.Next
	why := "daily budget spent"
	if se.Cap {
		why = "Cognito's daily email limit reached"
	}
	p.src.Idle(why+" until "+se.Next.UTC().Format(time.RFC3339), se.Next)
	p.log.Warn(why+": not receiving until the next window; the messages stay in the queue",
		"next_window", se.Next.UTC().Format(time.RFC3339), "daily_budget", se.Limit)
	if p.onPause != nil {
		p.onPause(se.Next)
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	until := se.Next
	p.timer = p.clock.AfterFunc(p.clock.Until(until), func() { p.wake(until) })
}

// reasonBudgetCheck idles a queue worker under --daily-budget until it has read its
// window's sends (atStart).
const reasonBudgetCheck = "daily budget: reading this window's sends"

// atStart lets the source (idle since it opened, reasonBudgetCheck) receive unless the
// window is already spent: then it stays idle until the next window, as though a
// take had been refused. A restart during the pause receives nothing (each receive
// counts towards the dead-letter queue). A count it cannot read lets it receive: the
// takes will tell.
func (p *budgetPause) atStart(ctx context.Context, b *budget.Budget) {
	_, next, spent, err := b.Status(ctx)
	if err == nil && b.Limit > 0 && spent >= b.Limit {
		p.spent(&budget.SpentError{Limit: b.Limit, Spent: spent, Next: next})
		return
	}
	p.src.Wake()
}

// wake receives again once the window that began at next is open.
func (p *budgetPause) wake(next time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.until.Equal(next) {
		return // paused again, for a later window
	}
	p.until = time.Time{}
	p.src.Wake()
	p.log.Info("a new window: receiving again", "window", next.UTC().Format(time.RFC3339))
}

// stop ends the timer (the run is over).
func (p *budgetPause) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer != nil {
		p.timer.Stop()
	}
}
