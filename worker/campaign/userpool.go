package campaign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
	"github.com/cognito-resend/cognito-resend/worker/words"
)

// listedStates are the states a listing of the pool asks for: those the campaign's rule
// may send a message to (UNCONFIRMED: a confirmation code; with --invitations
// FORCE_CHANGE_PASSWORD: an invitation).
func (c *Campaign) listedStates() []string { return c.eligibility().ListedStates() }

// preparePool does, once and before any resend, what the campaign needs of the user pool:
// the username case rule (DescribeUserPool when --user-pool-id is known), the process's
// one ListUsers limiter and Lister (the pool source's listing, the --verify-users census
// and lookups), and the verify stage: with --verify-with listusers a CSV campaign's
// census of the pool (one listing), a queue's lookups checked once (Preflight); with
// admin-get-user the AdminGetUser check tried once. A missing permission is a usage
// error, like the pool source's listing.
func (c *Campaign) preparePool(ctx context.Context) error {
	if c.verifier != nil {
		return nil
	}
	cfg := c.cfg
	rule := *c.rule // caseRule, before

	// One ListUsers limiter for the process (the UserList quota is one, account-wide).
	listLimiter := pacing.NewLimiter(pacing.LimiterConfig{Rate: cfg.ListRate, Burst: 1, Adaptive: cfg.Adaptive, Clock: c.clock})
	listBreaker := &pacing.Breaker{Limiter: listLimiter, Clock: c.clock} // the run makes it give up on an outage (watchOutage)
	if cfg.UserPoolID != "" {
		c.lister = &userpool.Lister{API: c.clients.Cognito(), PoolID: cfg.UserPoolID, Limiter: listLimiter, Breaker: listBreaker,
			Policy: cfg.Retry(), PageSize: int32(cfg.PageSize), CallTimeout: cfg.CallTimeout, Logger: c.log, Clock: c.clock}
	}
	limiter, breaker := listLimiter, listBreaker
	if cfg.VerifyWith == userpool.VerifyWithAdminGetUser {
		limiter = pacing.NewLimiter(pacing.LimiterConfig{Rate: cfg.VerifyRate, Burst: 1, Adaptive: cfg.Adaptive, Clock: c.clock})
		breaker = &pacing.Breaker{Limiter: limiter, Clock: c.clock}
	}
	v := &userpool.Verifier{PoolID: cfg.UserPoolID, Rule: c.eligibility(), Limiter: limiter, Breaker: breaker,
		Retry: cfg.Retry(), CallTimeout: cfg.CallTimeout, Logger: c.log, Clock: c.clock}
	idle, err := c.nothingToSend(ctx)
	if err != nil {
		return err
	}
	switch {
	case idle && (cfg.VerifyUsers || cfg.Invitations):
		// A finished campaign resumed (a dry run, a Job re-applied): its census, lookups
		// and start-up checks would be calls for no one. Were a user sent after all, each
		// would be looked up by name (or checked with AdminGetUser) in the run.
		c.verifyIdle = "no line of the CSV is left to send"
		c.log.Info("--verify-users: no census of the pool and no start-up check: "+c.verifyIdle, "csv", cfg.CSV,
			"report", c.reportPath)
		v.Lister = c.lister
		if cfg.VerifyWith == userpool.VerifyWithAdminGetUser {
			v.API = c.clients.Cognito()
		}
		c.verifier, c.verifyLimiter, c.verifyBreaker = v, limiter, breaker
		return nil
	case cfg.VerifyUsers && cfg.PoolSource():
		c.log.Info("--verify-users: the pool source's ListUsers already gives each user's status and Enabled flag; no other call is needed",
			"user_pool_id", cfg.UserPoolID)
	case cfg.VerifyUsers && cfg.VerifyWith == userpool.VerifyWithAdminGetUser:
		c.log.Warn(MAUWarning, "user_pool_id", cfg.UserPoolID)
		v.API = c.clients.Cognito()
		if err := v.Preflight(ctx); err != nil {
			return err
		}
	case cfg.VerifyUsers && cfg.CSV != "" && c.fewerLookups(rule) != "":
		c.verifyHow = c.fewerLookups(rule)
		c.log.Info("--verify-users: a ListUsers lookup by name per user, no census (bills no user): "+c.verifyHow,
			"user_pool_id", cfg.UserPoolID)
		v.Lister = c.lister
		if err := v.Preflight(ctx); err != nil {
			return err
		}
	case cfg.VerifyUsers && cfg.CSV != "":
		// One census of the pool; a lookup by name only for the users it can't place.
		attrs := []any{"user_pool_id", cfg.UserPoolID, "states", c.listedStates(), "list_rate", cfg.ListRate}
		if rule.PoolUsers > 0 {
			pages := c.listPages(rule.PoolUsers)
			attrs = append(attrs, "pool_users_estimated", rule.PoolUsers, "list_users_calls_at_most", pages,
				"takes_at_most", time.Duration(float64(pages)/cfg.ListRate*float64(time.Second)).Round(time.Second).String())
		}
		c.log.Info("--verify-users: listing the pool for its census (ListUsers, once; bills no user)", attrs...)
		cen, err := c.lister.Census(ctx, c.listedStates(), rule.Case)
		if err != nil {
			return fmt.Errorf("--verify-users: census of user pool %s: %w", cfg.UserPoolID, err)
		}
		c.log.Info("--verify-users: census of the pool by ListUsers (bills no user)", "user_pool_id", cfg.UserPoolID,
			"states", cen.Statuses, "users", cen.Users, "list_users_calls", cen.Pages)
		v.Census, v.Lister = cen, c.lister
	case cfg.VerifyUsers:
		v.Lister = c.lister // queue mode: a lookup by name per user
		if err := v.Preflight(ctx); err != nil {
			return err
		}
	}
	if err := c.preflightInvitations(ctx); err != nil {
		return err
	}
	c.verifier, c.verifyLimiter, c.verifyBreaker = v, limiter, breaker
	return nil
}

// nothingToSend reports whether a CSV file campaign has no line left that the run would
// send — each has a row that settles it, is invalid, or repeats a user (the admit rule,
// as Census and the run apply it) — reading the file once more, to its first line to
// send. False for other sources and standard input (read once).
func (c *Campaign) nothingToSend(ctx context.Context) (bool, error) {
	if c.cfg.CSV == "" || c.cfg.CSV == "-" || !(c.cfg.VerifyUsers || c.cfg.Invitations) {
		return false, nil
	}
	r, err := c.resume(false)
	if err != nil {
		return false, err
	}
	s, err := openCSV(ctx, c.cfg.CSV, c.cfg.Header, nil)
	if err != nil {
		return false, err
	}
	defer s.close(ctx) //nolint:errcheck // read-only pass
	r.skipRecorded(s, c.lineMismatch(r, false))
	adm := admit.New(c.rule.Case, r.final())
	for {
		j, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if _, send := adm.Admit(j); send {
			return false, nil
		}
	}
}

// caseRule reads the username case rule (DescribeUserPool when --user-pool-id is known:
// its estimated users too), once: the resume state is loaded under it, before any
// listing.
func (c *Campaign) caseRule(ctx context.Context) error {
	if c.rule != nil {
		return nil
	}
	cfg := c.cfg
	opts := userpool.CaseOptions{PoolID: cfg.UserPoolID, Flag: cfg.CaseSensitiveUsernames, Policy: cfg.Retry(),
		CallTimeout: cfg.CallTimeout, Logger: c.log, Clock: c.clock}
	if cfg.UserPoolID != "" {
		opts.API = c.clients.Cognito()
	}
	rule, err := userpool.ResolveCase(ctx, opts)
	if err != nil {
		return &config.FieldError{Field: "user-pool-id", Msg: err.Error()}
	}
	c.rule = &rule
	return nil
}

// fewerLookups says why a CSV campaign looks each user up instead of listing the pool,
// or "" when the census is the cheaper (or the size of either side is unknown): when the
// CSV (a file: its lines, an upper bound of its users) has fewer rows than the pages a
// census could take (listPages: the pool's estimated users, a filter a listed state, 60
// a page — the rule the census's own estimate uses), a lookup each makes fewer calls and
// starts sending at once.
func (c *Campaign) fewerLookups(rule userpool.CaseRule) string {
	if rule.PoolUsers <= 0 || c.cfg.CSV == "-" {
		return ""
	}
	rows, err := countLines(c.cfg.CSV)
	pages := c.listPages(rule.PoolUsers)
	if err != nil || rows >= pages {
		return ""
	}
	return fmt.Sprintf("the CSV has %s, fewer than the up to %s a census of the pool's ~%d users could take",
		words.Count(rows, "row"), words.Count(pages, "ListUsers page"), rule.PoolUsers)
}

// countLines counts the lines of the file at path.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	n, last := 0, byte('\n')
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if k > 0 {
			last = buf[k-1]
		}
		if errors.Is(err, io.EOF) {
			if last != '\n' {
				n++
			}
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// MAUWarning is what --verify-with admin-get-user costs, said in the log, the prompt
// and the dry run.
const MAUWarning = "--verify-with admin-get-user: AdminGetUser makes every user it checks a billed monthly active user " +
	"of the pool this month (Cognito's quotas page, \"Monthly active users\"; ListUsers does not): " +
	"--verify-with listusers (the default) reads the same states and bills no one"

// checksUsers reports whether each user is checked with a call of its own before the
// resend: AdminGetUser, or ListUsers lookups (a queue's; a CSV's when fewerLookups
// chose them; a CSV's census otherwise places most users without one, the pool
// source's listing all of them).
func (c *Campaign) checksUsers() bool {
	return c.cfg.VerifyUsers && !c.cfg.PoolSource() && (c.cfg.VerifyWith == userpool.VerifyWithAdminGetUser ||
		c.cfg.CSV == "" || c.verifyHow != "")
}

// checkRate is the rate of the per-user check (checksUsers): --verify-rate for
// AdminGetUser, --list-rate for lookups.
func (c *Campaign) checkRate() float64 {
	if c.cfg.VerifyWith == userpool.VerifyWithAdminGetUser {
		return c.cfg.VerifyRate
	}
	return c.cfg.ListRate
}

// Pace is the users/s the campaign can reach: its ceiling, or the check's rate when
// every user is checked with a call first and that is slower. The ETA uses it.
func (c *Campaign) Pace() float64 {
	if c.checksUsers() {
		return min(c.ceiling(), c.checkRate())
	}
	return c.ceiling()
}

// ceiling is the highest rate this replica paces at (config's one rule: --rate, or with
// --fleet-rate the whole fleet's rate — all of it while alone, its share once others join).
func (c *Campaign) ceiling() float64 { return c.cfg.Ceiling() }

// eligibility is the campaign's eligibility rule: which message each user state gets.
func (c *Campaign) eligibility() userpool.Rule { return userpool.Rule{Invitations: c.cfg.Invitations} }
