package userpool

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/awserr"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// DescribeUserPoolAPI is the call that reads the pool's username case rule (IAM
// cognito-idp:DescribeUserPool; optional: without it the flag or the default applies).
type DescribeUserPoolAPI interface {
	DescribeUserPool(ctx context.Context, in *cip.DescribeUserPoolInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error)
}

var _ DescribeUserPoolAPI = (*cip.Client)(nil)

// CaseRule is how usernames compare in a campaign, and why.
type CaseRule struct {
	Case admit.Case
	// Why: "pool setting", "--case-sensitive-usernames", or the default and how to change it.
	Why string
	// PoolUsers is what the same DescribeUserPool said of the pool's size
	// (EstimatedNumberOfUsers, every state); -1 when the pool was not read.
	PoolUsers int
}

// String is the sentence the census, the summary and the log show.
func (r CaseRule) String() string {
	how := "case-insensitively"
	if r.Case == admit.CaseSensitive {
		how = "case-sensitively"
	}
	return fmt.Sprintf("usernames compared %s (%s)", how, r.Why)
}

// Reasons a CaseRule gives.
const (
	whyPool        = "pool setting"
	whyPoolDefault = "pool setting: no UsernameConfiguration, so case-sensitive, the API's default"
	whyFlag        = "--case-sensitive-usernames"
	whyDefault     = "default; pass --case-sensitive-usernames for pools created case-sensitive"
)

// CaseOptions are the inputs of ResolveCase.
type CaseOptions struct {
	// API and PoolID: the pool to read (nil API or empty PoolID: no pool known).
	API    DescribeUserPoolAPI
	PoolID string
	// Flag is --case-sensitive-usernames when it was set (nil: not set).
	Flag        *bool
	Policy      pacing.Policy // retries of DescribeUserPool
	CallTimeout time.Duration // zero: cognito.CallTimeoutDefault
	Logger      *slog.Logger  // the warnings go here
	Clock       clock.Clock   // the retries' waits: required with a pool
}

// ResolveCase decides the campaign's case rule. With a pool it reads
// UsernameConfiguration.CaseSensitive once (DescribeUserPool; a pool without a
// UsernameConfiguration is case-sensitive: CaseSensitive's documented default); the pool
// wins over a flag that disagrees (with a warning: the pool is what Cognito applies). When
// the pool can't be read (no permission, no credentials, an outage) it warns and falls
// back to the flag, else case-insensitive (pools created in the console since 2020).
// The only error is a pool that does not exist.
func ResolveCase(ctx context.Context, o CaseOptions) (CaseRule, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fallback := CaseRule{Case: admit.CaseInsensitive, Why: whyDefault, PoolUsers: -1}
	if o.Flag != nil {
		fallback = CaseRule{Case: caseOf(*o.Flag), Why: whyFlag, PoolUsers: -1}
	}
	if o.API == nil || o.PoolID == "" {
		return fallback, nil
	}
	if o.Clock == nil {
		panic("userpool.ResolveCase: CaseOptions.Clock is required to read a pool") // a silent system clock would undo a test's fake clock
	}
	pool, err := describe(ctx, o)
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return fallback, fmt.Errorf("user pool %s not found (check --user-pool-id and --region): %s",
			o.PoolID, cognito.ErrorMessage(err))
	case err != nil && ctx.Err() != nil:
		return fallback, context.Cause(ctx)
	case err != nil:
		why := "cannot read the pool's username case setting"
		if cognito.IsCredentialsError(err) {
			why = "not allowed to read the pool's username case setting (IAM cognito-idp:DescribeUserPool)"
		}
		log.Warn(why+"; "+fallback.String(), "user_pool_id", o.PoolID, "error_code", cmp.Or(awserr.Code(err), "Error"),
			"error", cognito.ErrorMessage(err))
		return fallback, nil
	}
	rule := CaseRule{Case: admit.CaseSensitive, Why: whyPoolDefault}
	if uc := pool.UsernameConfiguration; uc != nil {
		rule = CaseRule{Case: caseOf(aws.ToBool(uc.CaseSensitive)), Why: whyPool}
	}
	rule.PoolUsers = int(pool.EstimatedNumberOfUsers)
	if o.Flag != nil && caseOf(*o.Flag) != rule.Case {
		log.Warn(fmt.Sprintf("--case-sensitive-usernames=%v disagrees with the user pool; following the pool", *o.Flag),
			"user_pool_id", o.PoolID, "rule", rule.String())
	}
	return rule, nil
}

func caseOf(sensitive bool) admit.Case {
	if sensitive {
		return admit.CaseSensitive
	}
	return admit.CaseInsensitive
}

// describe is one DescribeUserPool through cognito.Call: retried on throttles and
// faults, unpaced (one call at the start).
func describe(ctx context.Context, o CaseOptions) (*types.UserPoolType, error) {
	call := cognito.Call{Op: "DescribeUserPool", Limiter: pacing.NewLimiter(pacing.LimiterConfig{Clock: o.Clock}),
		Policy: o.Policy, CallTimeout: o.CallTimeout, Logger: o.Logger, Clock: o.Clock}
	var out *cip.DescribeUserPoolOutput
	ran := call.Run(ctx, ctx, "", func(ctx context.Context) (err error) {
		out, err = o.API.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(o.PoolID)})
		return err
	})
	switch {
	case ran.Stopped:
		return nil, context.Cause(ctx)
	case ran.Err != nil:
		return nil, ran.Err
	case out == nil || out.UserPool == nil:
		return nil, errors.New("DescribeUserPool returned no pool")
	}
	return out.UserPool, nil
}
