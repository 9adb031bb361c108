package userpool

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// VerifyRateDefault is --verify-rate: AdminGetUser calls per second. AdminGetUser is in
// the UserRead category (120/s per account and region), shared with the live
// application, which reads its users on every sign-in; 10/s takes a small share.
const VerifyRateDefault = 10.0

// VerifyRateMax is the UserRead quota: a --verify-rate above it can only be throttled.
const VerifyRateMax = 120.0

// --verify-with: how --verify-users learns each user's state.
const (
	// VerifyWithListUsers: a census of the pool and ListUsers lookups by name. ListUsers
	// makes no user a billed monthly active user.
	VerifyWithListUsers = "listusers"
	// VerifyWithAdminGetUser: AdminGetUser per user, which Cognito counts as activity
	// that makes the user a billed monthly active user (the quotas page, "Monthly active
	// users").
	VerifyWithAdminGetUser = "admin-get-user"
	VerifyWithDefault      = VerifyWithListUsers
)

// AdminGetUserAPI is the call --verify-users makes (IAM cognito-idp:AdminGetUser).
type AdminGetUserAPI interface {
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, optFns ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
}

var _ AdminGetUserAPI = (*cip.Client)(nil)

// Verifier is the verify stage, between admit and the claim: it judges each job's user
// (Judge) and lets only an UNCONFIRMED, enabled user go on to the resend. A state the
// source already knows (Job.State: the pool source's listing) is judged without a call;
// otherwise, with API set (--verify-users), AdminGetUser asks Cognito. Nothing is sent,
// so nothing is claimed in the ledger before it.
type Verifier struct {
	// API is AdminGetUser (--verify-with admin-get-user): each user it checks becomes a
	// billed monthly active user. nil: see Lister.
	API AdminGetUserAPI
	// Census (optional) places the users it listed without a call; Lister looks up the
	// others by name (--verify-with listusers, the default: ListUsers bills no user).
	// With neither, nor API (no --verify-users), only known states are judged and the
	// rest go on.
	Census *Census
	Lister *Lister
	PoolID string
	// Rule is the eligibility rule (--invitations).
	Rule Rule
	// Limiter paces AdminGetUser (--verify-rate): its own, never the resend limiter;
	// the two calls draw on different quotas.
	Limiter cognito.Limiter
	Breaker cognito.Breaker // optional; its own, pausing Limiter through an outage
	// Retry is the retries (config.Config.Retry), as the Resender's.
	Retry       pacing.Policy
	CallTimeout time.Duration // zero: cognito.CallTimeoutDefault
	Logger      *slog.Logger
	Clock       clock.Clock
	// OnAttempt, when set, observes every AdminGetUser attempt (metrics).
	OnAttempt func(o cognito.Outcome, latency time.Duration)

	calls atomic.Int64
}

// Calls is the number of AdminGetUser attempts made so far (ListUsers lookups are the
// Lister's).
func (v *Verifier) Calls() int64 { return v.calls.Load() }

// Verify judges j's user. send reports whether the job goes on to the resend, and then
// res.Message says which message it is to be sent ("" when nothing judged it: a
// confirmation code); when not,
// res is its report row (per-user: user_not_found, already_confirmed, disabled,
// not_eligible, or failed when AdminGetUser could not answer), or a ClassCanceled or
// ClassSystemic result for the engine to give back. No ResendConfirmationCode call is
// made here, so no row of this stage is ever ambiguous.
func (v *Verifier) Verify(stop, kill context.Context, j job.Job) (res job.Result, send bool) {
	return v.verify(stop, kill, j, true)
}

// verify is Verify; retryUnsent is cognito.Call.RetryUnsent: during the run Breaker's
// MaxOutage bounds an outage, while the start-up check spends attempts.
func (v *Verifier) verify(stop, kill context.Context, j job.Job, retryUnsent bool) (res job.Result, send bool) {
	clk := clock.Must(v.Clock, "userpool.Verifier")
	res = job.Result{Username: j.Username, SourceRef: j.SourceRef, StartedAt: clk.Now().UTC()}
	if j.State != nil {
		return v.judged(res, v.Rule.Judge(*j.State), "ListUsers: ", "", clk)
	}
	if v.Census != nil {
		if st, ok := v.Census.Place(j.Username); ok {
			return v.judged(res, v.Rule.Judge(st), "ListUsers: ", "", clk)
		}
	}
	if v.Lister != nil {
		return v.lookup(stop, kill, j, res, retryUnsent, clk)
	}
	if v.API == nil {
		return job.Result{}, true
	}

	var out *cip.AdminGetUserOutput
	ran := v.call(retryUnsent).Run(stop, kill, j.Username, func(ctx context.Context) (err error) {
		out, err = v.API.AdminGetUser(ctx, &cip.AdminGetUserInput{
			UserPoolId: aws.String(v.PoolID), Username: aws.String(j.Username)})
		return err
	})
	if ran.OK() {
		id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
		return v.judged(res, v.Rule.Judge(job.UserState{Status: string(out.UserStatus), Enabled: out.Enabled}),
			"AdminGetUser: ", id, clk)
	}
	res.FinishedAt = clk.Now().UTC()
	res.Class, res.Status, res.ErrorCode, res.Fix = ran.Outcome.Class, ran.Outcome.Status, ran.Outcome.Code, ran.Outcome.Fix
	res.RequestID = cognito.RequestID(ran.Err)
	res.ErrorMessage = "AdminGetUser: " + cognito.ErrorMessage(ran.Err)
	switch {
	case ran.Stopped:
		res.Class = job.ClassCanceled // not checked yet: give the job back
	case ran.Outcome.Class == job.ClassRetryable:
		res.ErrorMessage = fmt.Sprintf("AdminGetUser gave up after %d attempts: %s; no code was sent",
			ran.Attempts, cognito.ErrorMessage(ran.Err))
	}
	return res, false
}

// judged is the row of a user who is not to be sent (or send=true).
func (v *Verifier) judged(res job.Result, vd Eligibility, from, requestID string, clk clock.Clock) (job.Result, bool) {
	if vd.Send {
		return job.Result{Message: vd.Message}, true
	}
	res.FinishedAt = clk.Now().UTC()
	res.Status, res.ErrorCode, res.ErrorMessage = vd.Status, vd.Code, from+vd.Reason
	res.RequestID, res.Class = requestID, job.ClassPerUser
	return res, false
}

func (v *Verifier) call(retryUnsent bool) *cognito.Call {
	return &cognito.Call{Op: "AdminGetUser", Limiter: v.Limiter, Breaker: v.Breaker, RetryUnsent: retryUnsent,
		Policy:      v.Retry,
		CallTimeout: v.CallTimeout, Classify: v.classify, Logger: v.Logger, Clock: v.Clock,
		OnAttempt: func(o cognito.Outcome, latency time.Duration) {
			v.calls.Add(1)
			if v.OnAttempt != nil {
				v.OnAttempt(o, latency)
			}
		}}
}

// classify sorts an AdminGetUser answer: cognito.Classify, except for the answers that
// mean this check can't work for anyone (missing permission or credentials, wrong
// pool): systemic, with the fix. UserNotFoundException is the user's user_not_found.
func (v *Verifier) classify(err error) cognito.Outcome {
	return classifyPoolCall(err, v.PoolID, fmt.Sprintf("--verify-users calls cognito-idp:AdminGetUser on user pool %s: allow it for these AWS credentials "+
		"(deploy/iam/policy-verify-users.json), or run without --verify-users", v.PoolID))
}

// PreflightError is a Preflight failure: the check can't work for anyone, or Cognito
// could not be asked. Nothing was sent.
type PreflightError struct {
	Code    string // the error_code the check got
	Message string // AdminGetUser's answer
	Fix     string // empty when the answer suggests none (e.g. the retries ran out)
}

func (e *PreflightError) Error() string {
	msg := fmt.Sprintf("--verify-users: %s (%s)", e.Message, e.Code)
	if e.Fix != "" {
		msg += "; fix: " + e.Fix
	}
	return msg
}

// Preflight checks, before any resend, that AdminGetUser works on the pool: one call
// for a username that does not exist (UserNotFoundException is the expected answer, and
// proves the permission and the pool). A missing permission, missing credentials or a
// wrong pool then fail the campaign before its first resend, as the pool source does
// with its first ListUsers page.
func (v *Verifier) Preflight(ctx context.Context) error {
	if v.API == nil && v.Lister == nil {
		return nil
	}
	res, send := v.verify(ctx, ctx, job.Job{Username: probeUsername()}, false)
	switch {
	case send || (res.Class == job.ClassPerUser && res.Status != job.StatusFailed):
		return nil // Cognito answered about the user (as expected, UserNotFoundException): the call works
	case res.Class == job.ClassCanceled:
		return context.Cause(ctx)
	}
	return &PreflightError{Code: res.ErrorCode, Message: res.ErrorMessage, Fix: res.Fix}
}

// probeUsername is a valid username no one has: "cognito-resend-check-" and 16 hex digits.
func probeUsername() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "cognito-resend-check-" + hex.EncodeToString(b)
}

// lookup judges j's user by a ListUsers lookup by name: no user is user_not_found.
func (v *Verifier) lookup(stop, kill context.Context, j job.Job, res job.Result, retryUnsent bool, clk clock.Clock) (job.Result, bool) {
	u, err := v.Lister.Lookup(stop, kill, j.Username, retryUnsent)
	if err == nil && u == nil {
		res.FinishedAt = clk.Now().UTC()
		res.Status, res.Class, res.ErrorCode = job.StatusUserNotFound, job.ClassPerUser, CodeUserNotFound
		res.ErrorMessage = "ListUsers: the pool has no user of this name; no code was sent"
		return res, false
	}
	if err == nil {
		return v.judged(res, v.Rule.Judge(StateOf(*u)), "ListUsers: ", "", clk)
	}
	res.FinishedAt = clk.Now().UTC()
	var le *ListError
	if !errors.As(err, &le) {
		res.Class, res.Status, res.ErrorCode = job.ClassCanceled, job.StatusFailed, "Canceled"
		res.ErrorMessage = "ListUsers: " + err.Error()
		return res, false // stopped before an answer: not checked yet, given back
	}
	res.Class, res.Status, res.ErrorCode, res.Fix = le.Outcome.Class, le.Outcome.Status, le.Outcome.Code, le.Outcome.Fix
	res.RequestID = cognito.RequestID(le.Err)
	res.ErrorMessage = "ListUsers: " + cognito.ErrorMessage(le.Err)
	if le.Outcome.Class == job.ClassRetryable {
		res.ErrorMessage = fmt.Sprintf("ListUsers gave up after %d attempts: %s; no code was sent",
			le.Attempts, cognito.ErrorMessage(le.Err))
	}
	return res, false
}
