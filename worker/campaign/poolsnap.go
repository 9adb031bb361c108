package campaign

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/source/poolsource"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
	"github.com/cognito-resend/cognito-resend/worker/words"
)

// SnapshotFresh is how old a pool snapshot a NEW campaign adopts may be (one a dry run
// of the same --report wrote): the dry run's numbers are the run's, without a second
// listing. An older one is listed again (the pool has moved on); --resume always reads
// its campaign's snapshot back.
const SnapshotFresh = time.Hour

// snapshotPath is the pool snapshot of this campaign: beside the report; a dry run
// without --report (whose default report path is new each run) keeps it in a temporary
// file that Close removes.
func (c *Campaign) snapshotPath() (string, error) {
	if c.snapPath != "" {
		return c.snapPath, nil
	}
	if c.cfg.DryRun && c.cfg.Report == "" {
		f, err := os.CreateTemp("", "cognito-resend-*.pool")
		if err != nil {
			return "", err
		}
		f.Close()
		c.snapPath, c.snapTemp = f.Name(), true
		return c.snapPath, nil
	}
	c.snapPath = poolsource.SnapshotPath(c.reportPath)
	return c.snapPath, nil
}

// poolSnapshot makes sure the pool snapshot is there and complete, listing the pool
// (once a process) when it is not: no snapshot; one cut short (its listing was
// interrupted: nothing was sent from it, and listing again is safe); one of other
// states or another creation window; one older than SnapshotFresh for a new campaign.
// A snapshot of ANOTHER pool is listed over when no report exists yet (a dry run of
// another --user-pool-id), and is a usage error beside an existing report (whose input is
// this pool: the files were swapped by hand; the tool does not guess which is right).
func (c *Campaign) poolSnapshot(ctx context.Context) (string, error) {
	path, err := c.snapshotPath()
	if err != nil {
		return "", err
	}
	if c.snapshot != nil {
		return path, nil
	}
	cfg := c.cfg
	want := poolsource.Header{UserPoolID: cfg.UserPoolID, Statuses: c.listedStates(),
		CreatedAfter: cfg.CreatedAfter, CreatedBefore: cfg.CreatedBefore}
	l, err := poolsource.Check(path)
	reason := ""
	switch {
	case c.snapTemp:
		reason = "no pool snapshot yet"
	case errors.Is(err, fs.ErrNotExist) && cfg.Resume && fileExists(c.reportPath):
		// The campaign listed the pool when it started: its snapshot was deleted, or the
		// report moved without it. Listing again is safe (users with rows are skipped)
		// but costs the listing's time: say so.
		c.log.Warn(fmt.Sprintf("no pool snapshot beside %s (moved or deleted?): listing the pool again: %s",
			c.reportPath, c.listingCost()), "snapshot", path)
		reason = "no pool snapshot beside the report"
	case errors.Is(err, fs.ErrNotExist):
		reason = "no pool snapshot yet"
	case errors.Is(err, poolsource.ErrIncomplete):
		c.log.Warn("the pool snapshot is incomplete (its listing was interrupted): listing the pool again",
			"snapshot", path, "error", err.Error())
		reason = "incomplete snapshot"
	case errors.Is(err, poolsource.ErrChanged):
		// Never trusted: a hand edit that kept the count would skip users silently.
		// Listing again is safe: users with rows are skipped on resume.
		c.log.Warn(fmt.Sprintf("the pool snapshot %s was changed or damaged since it was written: it is not read; "+
			"listing the pool again: %s", path, c.listingCost()), "snapshot", path, "error", err.Error())
		reason = "changed snapshot"
	case err != nil:
		return "", &config.FieldError{Field: "user-pool-id", Msg: fmt.Sprintf("pool snapshot %s: %v", path, err)}
	case l.UserPoolID != cfg.UserPoolID && fileExists(c.reportPath):
		// The report (its .input checked already) is of this pool, its snapshot of
		// another: files swapped or copied by hand. Stop and say so rather than guess.
		return "", &config.FieldError{Field: "user-pool-id", Msg: fmt.Sprintf("the pool snapshot %s beside the report "+
			"lists user pool %s, not %s: it is not this campaign's listing (moved or copied by hand?). Check --report "+
			"and --user-pool-id; to list the pool again, remove %s", path, l.UserPoolID, cfg.UserPoolID, path)}
	case l.UserPoolID != cfg.UserPoolID:
		c.log.Warn("the pool snapshot beside the report lists another user pool (a dry run of another --user-pool-id?): "+
			"listing this pool", "snapshot", path, "snapshot_user_pool_id", l.UserPoolID, "user_pool_id", cfg.UserPoolID)
		reason = "another pool's snapshot, no report yet"
	case !l.SameListing(want):
		// A WARN like every other relisting: it costs the listing's time, and says the
		// campaign's options differ from the listing's (--invitations, --created-*).
		c.log.Warn(fmt.Sprintf("the pool snapshot lists other states or another creation window: listing the pool "+
			"again: %s", c.listingCost()), "snapshot", path, "states", l.Statuses, "want_states", want.Statuses,
			"created_after", l.CreatedAfter, "created_before", l.CreatedBefore)
		reason = "other filters"
	case !cfg.Resume && c.clock.Since(l.ListedAt) > SnapshotFresh:
		c.log.Info(fmt.Sprintf("the pool snapshot is older than %s: listing the pool again", SnapshotFresh),
			"snapshot", path, "listed_at", l.ListedAt.UTC().Format(time.RFC3339))
		reason = "stale snapshot"
	default:
		c.log.Info("pool snapshot read back: the pool is not listed again", "snapshot", path, "users", l.Users,
			"listed_at", l.ListedAt.UTC().Format(time.RFC3339))
		c.snapshot = &l
		return path, nil
	}
	now := c.clock.Now()
	after, _ := config.ParseTimeBound(cfg.CreatedAfter, now) // validated already
	before, _ := config.ParseTimeBound(cfg.CreatedBefore, now)
	want.ListedAt = now.UTC()
	c.log.Info("listing the user pool (ListUsers, once: the census and the run read the snapshot)", "user_pool_id",
		cfg.UserPoolID, "states", want.Statuses, "list_rate", cfg.ListRate, "snapshot", path, "why", reason)
	c.snapCreated = c.snapCreated || !existsPath(path)
	l, err = poolsource.List(ctx, c.lister, path, want, poolsource.Window{After: after, Before: before})
	if err != nil {
		return "", fmt.Errorf("--user-pool-id: %w", err)
	}
	c.log.Info("user pool listed", "users", l.Users, "skipped", l.Skipped, "list_users_calls", l.Pages, "snapshot", path)
	c.snapshot = &l
	return path, nil
}

// openPool opens the pool snapshot (listing the pool first when poolSnapshot must).
func (c *Campaign) openPool(ctx context.Context) (*source, error) {
	path, err := c.poolSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	src, err := poolsource.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--user-pool-id: %w", err)
	}
	return &source{Source: src, close: func(context.Context) error { src.Close(); return nil },
		desc: []any{"user_pool_id", c.cfg.UserPoolID, "snapshot", path}}, nil
}

// listPages is how many ListUsers pages a listing of the campaign's states takes at
// most for a pool of about users: one filter a state (listedStates), each at least a
// page — two with --invitations for a pool of one page.
func (c *Campaign) listPages(users int) int {
	return (users+userpool.PageSizeMax-1)/userpool.PageSizeMax + len(c.listedStates()) - 1
}

// listingCost is what listing the pool takes: about how many ListUsers pages (the pool's
// estimated users, DescribeUserPool, 60 a page) at --list-rate, and how long.
func (c *Campaign) listingCost() string {
	rate := c.cfg.ListRate
	if c.rule == nil || c.rule.PoolUsers <= 0 {
		return fmt.Sprintf("ListUsers at --list-rate %g/s (the pool's size is not known)", rate)
	}
	pages := c.listPages(c.rule.PoolUsers)
	return fmt.Sprintf("about %s (the pool's ~%d users) at --list-rate %g/s: ~%s", words.Count(pages, "page"), c.rule.PoolUsers, rate,
		max(time.Second, time.Duration(float64(pages)/rate*float64(time.Second)).Round(time.Second)))
}

// discardSnapshot removes the snapshot this process listed where there was none, when
// the campaign is refused (exit 2) after its listing: nothing was sent from it, and the
// corrected command lists again (poolsnap_test: no orphan <report>.pool).
func (c *Campaign) discardSnapshot() {
	if c.snapCreated && !c.snapTemp {
		_ = os.Remove(c.snapPath)
		c.snapshot, c.snapCreated = nil, false
	}
}

// Declined is the operator's "no" at the prompt, after the census: nothing was sent,
// and the pool snapshot this process listed for the campaign (usernames) is removed, as
// on any refusal (a run that exits 2 leaves no file behind); the command answered yes
// lists the pool again.
func (c *Campaign) Declined() { c.discardSnapshot() }

// removeTempSnapshot removes a dry run's temporary snapshot.
func (c *Campaign) removeTempSnapshot() {
	if c.snapTemp {
		_ = os.Remove(c.snapPath)
	}
}

// ListReads is the ListUsers calls this process made (listings and lookups).
func (c *Campaign) ListReads() (pages, lookups int64) {
	if c.lister == nil {
		return 0, 0
	}
	return c.lister.Pages(), c.lister.Lookups()
}
