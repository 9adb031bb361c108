package campaign

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/fleet"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/metrics"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// invitations is the --invitations part of a run (docs/invitations.md): AdminCreateUser
// RESEND under its own limiter (the UserCreation quota is not the resend's) and breaker.
type invitations struct {
	inviter  *cognito.Inviter
	limiter  *pacing.Limiter
	breaker  *pacing.Breaker
	attempts atomic.Int64
}

// openInvitations builds the invitation sender of a run; nil without --invitations.
// inFlight is the run's one counter of Cognito sends in flight (countingAPI).
func (c *Campaign) openInvitations(m *metrics.Metrics, abort context.CancelCauseFunc, inFlight *atomic.Int64) *invitations {
	cfg := c.cfg
	if !cfg.Invitations {
		return nil
	}
	inv := &invitations{}
	// Adaptive like the resend limiter; no --reserve: that is the resend quota's.
	inv.limiter = pacing.NewLimiter(pacing.LimiterConfig{Rate: cfg.InvitationRate, Burst: 1, Adaptive: cfg.Adaptive,
		Clock: c.clock})
	inv.breaker = &pacing.Breaker{Limiter: inv.limiter, OnTrip: m.BreakerTripped, Clock: c.clock}
	c.watchOutage(inv.breaker, abort)
	inv.inviter = c.newInviter(inv.limiter, inv.breaker)
	inv.inviter.API = countingAPI{CognitoAPI: c.clients.Cognito(), n: inFlight}
	inv.inviter.OnAttempt = func(o cognito.Outcome, latency time.Duration) {
		inv.attempts.Add(1)
		m.ObserveInvitation(o, latency)
	}
	m.WatchInvitationRate(inv.limiter.Rate)
	return inv
}

func (c *Campaign) newInviter(limiter cognito.Limiter, breaker cognito.Breaker) *cognito.Inviter {
	cfg := c.cfg
	v := &cognito.Inviter{API: c.clients.Cognito(), PoolID: cfg.UserPoolID, Metadata: cfg.Metadata,
		Limiter: limiter, Breaker: breaker, Retry: cfg.Retry(), CallTimeout: cfg.CallTimeout, Logger: c.log, Clock: c.clock}
	if md := cfg.InvitationMedium(); md != "" {
		v.Mediums = []types.DeliveryMediumType{types.DeliveryMediumType(md)}
	}
	return v
}

// processor is what the engine calls: the resender, or with --invitations each job's
// message's sender.
func (i *invitations) processor(r *cognito.Resender) engine.Processor {
	if i == nil {
		return r
	}
	return cognito.Messages{Confirmation: r, Invitation: i.inviter}
}

// breakers are the invitation breaker, when there is one (guardQueue holds on every one).
func (i *invitations) breakers() []*pacing.Breaker {
	if i == nil {
		return nil
	}
	return []*pacing.Breaker{i.breaker}
}

// rate is the invitation limiter's rate now (0: no --invitations).
func (i *invitations) rate() float64 {
	if i == nil {
		return 0
	}
	return i.limiter.Rate()
}

func (i *invitations) calls() int64 {
	if i == nil {
		return 0
	}
	return i.attempts.Load()
}

// fleetCeiling is the fleet rule for invitations: --invitation-rate, beside --fleet-rate,
// is the whole fleet's invitation rate, split among the replicas alive in the same
// proportion as --fleet-rate (a replica's share of one is its share of the other), so
// that scaling the fleet never raises the UserCreation calls either.
type fleetCeiling struct {
	resend, invitation *pacing.Limiter
	ratio              float64 // --invitation-rate / --fleet-rate
}

func (f fleetCeiling) SetCeiling(r float64) {
	f.resend.SetCeiling(r)
	f.invitation.SetCeiling(r * f.ratio)
}

// ceilings is what the fleet steers: the resend limiter, and the invitation limiter
// beside it.
func (c *Campaign) ceilings(resend *pacing.Limiter, inv *invitations) fleet.Ceiling {
	if inv == nil || c.cfg.FleetRate <= 0 {
		return resend
	}
	return fleetCeiling{resend: resend, invitation: inv.limiter, ratio: c.cfg.InvitationRate / c.cfg.FleetRate}
}

// preflightInvitations checks, before any call, that AdminCreateUser works on the pool:
// one RESEND for a username that does not exist (UserNotFoundException proves the
// permission and the pool; nobody gets a message). A missing permission is then a usage
// error, not a systemic stop after the first resends.
func (c *Campaign) preflightInvitations(ctx context.Context) error {
	if !c.cfg.Invitations {
		return nil
	}
	lim := pacing.NewLimiter(pacing.LimiterConfig{Rate: c.cfg.InvitationRate, Burst: 1, Clock: c.clock})
	res := c.newInviter(lim, nil).Send(ctx, ctx, job.Job{Username: invitationProbe()}, nil)
	switch {
	case res.Status == job.StatusUserNotFound:
		return nil
	case res.Class == job.ClassCanceled:
		return context.Cause(ctx)
	case res.Status == job.StatusSent:
		return errors.New("--invitations: the start-up check's AdminCreateUser RESEND for a user that should not exist succeeded")
	}
	msg := fmt.Sprintf("--invitations: %s (%s)", res.ErrorMessage, res.ErrorCode)
	if res.Fix != "" {
		msg += "; fix: " + res.Fix
	}
	return errors.New(msg)
}

// invitationProbe is a valid username no one has, of the --verify-users check's shape:
// "cognito-resend-check-" and 16 hex digits.
func invitationProbe() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "cognito-resend-check-" + hex.EncodeToString(b)
}
