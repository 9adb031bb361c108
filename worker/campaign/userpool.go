package campaign

import (
	"context"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

// preparePool does, once and before any resend, what the campaign needs of the user pool:
// the username case rule (DescribeUserPool when --user-pool-id is known) and the verify
// stage, whose AdminGetUser check (--verify-users) is tried once (Preflight) so that a
// missing permission is a usage error, like the pool source's first ListUsers page.
func (c *Campaign) preparePool(ctx context.Context) error {
	if c.verifier != nil {
		return nil
	}
	cfg := c.cfg
	policy := pacing.Policy{Attempts: cfg.MaxAttempts, Base: cfg.BackoffBase, Max: cfg.BackoffMax}
	opts := userpool.CaseOptions{PoolID: cfg.UserPoolID, Flag: cfg.CaseSensitiveUsernames, Policy: policy,
		CallTimeout: cfg.CallTimeout, Logger: c.log}
	if cfg.UserPoolID != "" {
		opts.API = newCognito(*c.aws)
	}
	rule, err := userpool.ResolveCase(ctx, opts)
	if err != nil {
		return &config.FieldError{Field: "user-pool-id", Msg: err.Error()}
	}

	limiter := pacing.NewLimiter(pacing.LimiterConfig{Rate: cfg.VerifyRate, Burst: 1, Adaptive: cfg.Adaptive, Clock: c.clock})
	breaker := &pacing.Breaker{Limiter: limiter} // the run makes it give up on an outage (watchOutage)
	v := &userpool.Verifier{PoolID: cfg.UserPoolID, Limiter: limiter, Breaker: breaker,
		MaxAttempts: cfg.MaxAttempts, BackoffBase: cfg.BackoffBase, BackoffMax: cfg.BackoffMax,
		CallTimeout: cfg.CallTimeout, Logger: c.log, Clock: c.clock}
	switch {
	case cfg.VerifyUsers && cfg.PoolSource():
		c.log.Info("--verify-users: the pool source's ListUsers already gives each user's status and Enabled flag; no AdminGetUser call is needed",
			"user_pool_id", cfg.UserPoolID)
	case cfg.VerifyUsers:
		v.API = newCognito(*c.aws)
		if err := v.Preflight(ctx); err != nil {
			return err
		}
	}
	c.rule, c.verifier, c.verifyLimiter, c.verifyBreaker = &rule, v, limiter, breaker
	return nil
}

// checksUsers reports whether each user is checked with AdminGetUser before the resend.
func (c *Campaign) checksUsers() bool { return c.cfg.VerifyUsers && !c.cfg.PoolSource() }

// Pace is the users/s the campaign can reach: its ceiling, or --verify-rate when every
// user is checked with AdminGetUser first and that is slower. The ETA uses it.
func (c *Campaign) Pace() float64 {
	if c.checksUsers() {
		return min(c.ceiling(), c.cfg.VerifyRate)
	}
	return c.ceiling()
}

// ceiling is the highest rate this replica paces at: --rate, or with --fleet-rate the
// whole fleet's rate (all of it while alone; its share once others join).
func (c *Campaign) ceiling() float64 {
	if c.cfg.FleetRate > 0 {
		return c.cfg.FleetRate
	}
	return c.cfg.Rate
}
