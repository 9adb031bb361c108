package userpool

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// ListUsers' quota and page (the UserList category: ListUsers and ListUsersInGroup).
const (
	// ListRateDefault is --list-rate: ListUsers calls per second for the whole process
	// (the pool source's listing, the --verify-users census and lookups share it). The
	// UserList quota is 30/s per account, not adjustable, and shared with the live
	// application: 5/s takes a sixth of it.
	ListRateDefault = 5.0
	// ListRateMax is the UserList quota: a --list-rate above it can only be throttled.
	ListRateMax = 30.0
	// PageSizeMax is ListUsers' largest page (Limit), and --page-size's default.
	PageSizeMax = 60
)

// ListUsersAPI is the call the pool's listing and the --verify-users census and lookups
// make (IAM cognito-idp:ListUsers). ListUsers does not make a user a billed monthly
// active user (the Cognito quotas page, "Monthly active users"); AdminGetUser does.
type ListUsersAPI interface {
	ListUsers(ctx context.Context, in *cip.ListUsersInput, optFns ...func(*cip.Options)) (*cip.ListUsersOutput, error)
}

var _ ListUsersAPI = (*cip.Client)(nil)

// Lister makes every ListUsers call of a campaign: a listing of the users in a set of
// states (one filtered listing per state: a filter names one attribute) and the lookup
// of one user by name. Each call is a cognito.Call (limiter, timeout, breaker, the one
// retry helper); the Limiter is the process's one ListUsers limiter (--list-rate).
// Safe for concurrent use.
type Lister struct {
	API    ListUsersAPI
	PoolID string
	// Limiter paces every ListUsers call of the process; Breaker (optional) sees their faults.
	Limiter     cognito.Limiter
	Breaker     cognito.Breaker
	Policy      pacing.Policy
	PageSize    int32         // 1..PageSizeMax; zero: PageSizeMax
	CallTimeout time.Duration // zero: cognito.CallTimeoutDefault
	Logger      *slog.Logger
	Clock       clock.Clock

	pages, lookups atomic.Int64
}

// Pages is the number of ListUsers attempts made for listings so far.
func (l *Lister) Pages() int64 { return l.pages.Load() }

// Lookups is the number of ListUsers attempts made to look single users up so far.
func (l *Lister) Lookups() int64 { return l.lookups.Load() }

// StatusFilter is the ListUsers filter of the users in one UserStatus.
func StatusFilter(status string) string {
	return `cognito:user_status = "` + escapeFilter(status) + `"`
}

// UsernameFilter is the ListUsers filter of the user named name: exact, with the
// backslash and the quotation mark escaped (the filter's own quoting rule).
func UsernameFilter(name string) string { return `username = "` + escapeFilter(name) + `"` }

var filterEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func escapeFilter(s string) string { return filterEscaper.Replace(s) }

// ListError is a listing or a lookup that could not be made: Fix says what would help.
type ListError struct {
	Outcome  cognito.Outcome
	Err      error
	Attempts int
}

func (e *ListError) Error() string {
	msg := "ListUsers: " + cognito.ErrorMessage(e.Err)
	if e.Outcome.Fix != "" {
		msg += "; fix: " + e.Outcome.Fix
	}
	return msg
}

func (e *ListError) Unwrap() error { return e.Err }

// List lists the pool's users in each of statuses in turn (one filtered listing per
// status, page by page, following PaginationToken) and calls fn for each user listed.
// An error from fn ends the listing and is returned.
func (l *Lister) List(ctx context.Context, statuses []string, fn func(types.UserType) error) error {
	for _, st := range statuses {
		if err := l.list(ctx, StatusFilter(st), fn); err != nil {
			return err
		}
	}
	return nil
}

func (l *Lister) list(ctx context.Context, filter string, fn func(types.UserType) error) error {
	seen := map[string]bool{} // a repeated token would loop for ever
	var token *string
	for {
		out, err := l.call(ctx, ctx, "", false, &l.pages, &cip.ListUsersInput{UserPoolId: aws.String(l.PoolID),
			Filter: aws.String(filter), Limit: aws.Int32(l.pageSize()), PaginationToken: token})
		if err != nil {
			return err
		}
		for _, u := range out.Users {
			if err := fn(u); err != nil {
				return err
			}
		}
		tok := aws.ToString(out.PaginationToken)
		if tok == "" || seen[tok] {
			return nil
		}
		seen[tok] = true
		token = aws.String(tok)
	}
}

// Lookup finds the user named username (ListUsers with UsernameFilter): nil when the
// pool has no such user. retryUnsent is cognito.Call.RetryUnsent (the run's lookups,
// whose Breaker bounds an outage). A stop before an answer returns context.Cause(stop).
func (l *Lister) Lookup(stop, kill context.Context, username string, retryUnsent bool) (*types.UserType, error) {
	out, err := l.call(stop, kill, username, retryUnsent, &l.lookups, &cip.ListUsersInput{UserPoolId: aws.String(l.PoolID),
		Filter: aws.String(UsernameFilter(username)), Limit: aws.Int32(1)})
	if err != nil {
		return nil, err
	}
	if len(out.Users) == 0 {
		return nil, nil
	}
	return &out.Users[0], nil
}

// errStopped is a call that stop ended before Cognito answered it.
var errStopped = errors.New("stopped before ListUsers answered")

// call runs one ListUsers through cognito.Call, counting its attempts in n.
func (l *Lister) call(stop, kill context.Context, username string, retryUnsent bool, n *atomic.Int64,
	in *cip.ListUsersInput) (*cip.ListUsersOutput, error) {
	c := cognito.Call{Op: "ListUsers", Limiter: l.Limiter, Breaker: l.Breaker, Policy: l.Policy,
		CallTimeout: l.CallTimeout, Classify: l.classify, RetryUnsent: retryUnsent, Logger: l.Logger, Clock: l.Clock,
		OnAttempt: func(cognito.Outcome, time.Duration) { n.Add(1) }}
	var out *cip.ListUsersOutput
	ran := c.Run(stop, kill, username, func(ctx context.Context) (err error) {
		out, err = l.API.ListUsers(ctx, in)
		return err
	})
	switch {
	case ran.OK() && out != nil:
		return out, nil
	case ran.Stopped:
		return nil, fmt.Errorf("%w: %w", errStopped, context.Cause(stop))
	case ran.Err == nil:
		return nil, errors.New("ListUsers returned nothing")
	}
	return nil, &ListError{Outcome: ran.Outcome, Err: ran.Err, Attempts: ran.Attempts}
}

func (l *Lister) pageSize() int32 {
	if l.PageSize <= 0 || l.PageSize > PageSizeMax {
		return PageSizeMax
	}
	return l.PageSize
}

// classify sorts a ListUsers answer: cognito.Classify, except for the answers that mean
// no listing can work (missing permission or credentials, wrong pool): systemic, with
// the fix.
func (l *Lister) classify(err error) cognito.Outcome {
	return classifyPoolCall(err, l.PoolID, fmt.Sprintf("listing user pool %s needs AWS credentials allowed cognito-idp:ListUsers on it "+
		"(deploy/iam/policy-pool-source.json, deploy/iam/policy-verify-users.json)", l.PoolID))
}

// classifyPoolCall sorts the answer of a read of the pool (ListUsers, AdminGetUser):
// cognito.Classify, except for the answers that mean no read can work for anyone
// (missing permission or credentials: fix; wrong pool): systemic, with the fix.
func classifyPoolCall(err error, poolID, fix string) cognito.Outcome {
	var notAuth *types.NotAuthorizedException
	var notFound *types.ResourceNotFoundException
	switch {
	case err == nil:
		return cognito.Outcome{Class: job.ClassNone}
	case cognito.IsCredentialsError(err), errors.As(err, &notAuth):
		return cognito.Outcome{Class: job.ClassSystemic, Status: job.StatusFailed, Code: cmp.Or(awserr.Code(err), "NoCredentials"), Fix: fix}
	case errors.As(err, &notFound):
		return cognito.Outcome{Class: job.ClassSystemic, Status: job.StatusFailed, Code: notFound.ErrorCode(),
			Fix: fmt.Sprintf("user pool %s not found: check --user-pool-id and --region", poolID)}
	}
	return cognito.Classify(err)
}
