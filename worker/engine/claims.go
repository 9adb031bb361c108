package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// claim is one user's claim held by this run: from a Won verdict until the outcome is in
// the ledger (Finish) or the claim is given back (Release).
type claim struct {
	job job.Job
	// cancel ends the job's waits and retries (the claim was lost): no attempt starts
	// without a live claim.
	cancel context.CancelCauseFunc

	// guarded by claims.mu
	renewed time.Time // when the last lease that succeeded was asked for
	lost    bool
	lapsed  bool
}

// claims is the in-flight tracker of held claims, which the workers, the writer and the
// renew loop share.
type claims struct {
	mu   sync.Mutex
	held map[*claim]struct{}
}

func newClaims() *claims { return &claims{held: map[*claim]struct{}{}} }

func (cs *claims) add(j job.Job, cancel context.CancelCauseFunc, now time.Time) *claim {
	c := &claim{job: j, cancel: cancel, renewed: now}
	cs.mu.Lock()
	cs.held[c] = struct{}{}
	cs.mu.Unlock()
	return c
}

// drop forgets a claim that is finished or given back (no-op for nil).
func (cs *claims) drop(c *claim) {
	if c == nil {
		return
	}
	cs.mu.Lock()
	delete(cs.held, c)
	cs.mu.Unlock()
}

// due returns the held claims last renewed at least every ago, neither lost nor lapsed.
func (cs *claims) due(now time.Time, every time.Duration) []*claim {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []*claim
	for c := range cs.held {
		if !c.lost && !c.lapsed && now.Sub(c.renewed) >= every {
			out = append(out, c)
		}
	}
	return out
}

func (cs *claims) renewed(c *claim, now time.Time) {
	cs.mu.Lock()
	c.renewed = now
	cs.mu.Unlock()
}

// markLost records that c is no longer ours and ends its job's attempts.
func (cs *claims) markLost(c *claim, err error) {
	cs.mu.Lock()
	c.lost = true
	cs.mu.Unlock()
	c.cancel(err)
}

func (cs *claims) isLost(c *claim) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return c.lost
}

// live reports whether c's lease is still running at now (lease 0: no lease, always);
// a claim found lapsed stays lapsed (ErrLeaseLapsed ends its job's attempts).
func (cs *claims) live(c *claim, now time.Time, lease time.Duration) bool {
	cs.mu.Lock()
	lapsed := c.lapsed || (lease > 0 && now.Sub(c.renewed) >= lease)
	first := lapsed && !c.lapsed
	c.lapsed = lapsed
	cs.mu.Unlock()
	if first {
		c.cancel(ErrLeaseLapsed)
	}
	return !lapsed
}

func (cs *claims) isLapsed(c *claim) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return c.lapsed
}

// renewLoop keeps the held claims alive, like the SQS heartbeat keeps messages
// invisible: every interval/4 it renews the claims not renewed for an interval, so a job
// held for less than one interval costs no renewal. A claim found lost ends its job's
// attempts; a ledger that can't be written stops the campaign (fail), since a claim left
// to expire could be met by another owner while we still call. A claim whose lease ran
// out before it could be renewed (the process was paused longer than the lease) is never
// renewed: others may have judged it expired meanwhile, so its job makes no further
// attempt (the lease is the fence).
func renewLoop(ctx context.Context, l Ledger, cs *claims, interval, lease time.Duration, clk clock.Clock,
	log *slog.Logger, fail func(error)) {
	t := clk.NewTicker(max(interval/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, renewConcurrency)
		for _, c := range cs.due(clk.Now(), interval) {
			if !cs.live(c, clk.Now(), lease) {
				log.Warn("claim lease lapsed before it could be renewed (was the process paused?); "+
					"no further attempt for this user", "username", c.job.Username, "source_ref", c.job.SourceRef,
					"lease", lease.String())
				continue
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				asked := clk.Now() // the new lease runs from here at the latest
				err := l.Renew(ctx, c.job)
				switch {
				case err == nil:
					cs.renewed(c, asked)
				case ctx.Err() != nil:
				case errors.Is(err, job.ErrClaimLost):
					log.Warn("claim lost; no further attempt for this user", "username", c.job.Username,
						"source_ref", c.job.SourceRef)
					cs.markLost(c, err)
				default:
					fail(fmt.Errorf("%w: renewing the claim of %s: %w", ErrLedger, c.job.Username, err))
				}
			})
		}
		wg.Wait()
	}
}

// renewConcurrency bounds the renewals in flight at once: one slow call must not make
// the others late.
const renewConcurrency = 16
