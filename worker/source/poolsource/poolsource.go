package poolsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// Defaults of --list-rate and --page-size.
const (
	// RateDefault: ListUsers has its own quota (UserList: 30/s account-wide, not
	// adjustable), shared with the live application.
	RateDefault = 5.0
	// PageSizeDefault is ListUsers' maximum page.
	PageSizeDefault = 60
)

// UserPoolAPI is the Cognito call the user-pool source makes (needs IAM
// cognito-idp:ListUsers, unlike the resend call).
type UserPoolAPI interface {
	ListUsers(ctx context.Context, in *cip.ListUsersInput, optFns ...func(*cip.Options)) (*cip.ListUsersOutput, error)
}

var _ UserPoolAPI = (*cip.Client)(nil)

// unconfirmedFilter is the ListUsers filter for users who never confirmed sign-up.
const unconfirmedFilter = `cognito:user_status = "UNCONFIRMED"`

// Config configures a Source. Zero fields get the defaults (RateDefault,
// PageSizeDefault, the pacing package's retry defaults).
type Config struct {
	API    UserPoolAPI
	PoolID string
	// Rate of ListUsers calls: it has its own, smaller quota than the resend call.
	Rate     float64
	PageSize int32 // 1..60
	// CreatedAfter/CreatedBefore bound UserCreateDate (zero = unbounded).
	CreatedAfter, CreatedBefore time.Time
	MaxAttempts                 int
	BackoffBase, BackoffMax     time.Duration
	Clock                       clock.Clock
}

// Source lists a pool's UNCONFIRMED users page by page (following PaginationToken) in
// the background, so resends start while later pages are listed.
type Source struct {
	cfg    Config
	lim    *pacing.Limiter
	policy pacing.Policy
	jobs   chan job.Job
	err    error // set before jobs is closed
	stop   context.CancelFunc

	// Listed counts users returned by ListUsers; Skipped those not UNCONFIRMED or
	// outside the creation window.
	Listed, Skipped int
	Pages           int
}

var _ job.Source = (*Source)(nil)

// New fetches the first page before returning, so that missing credentials, a missing
// permission or a wrong pool id are found before any resend.
func New(ctx context.Context, cfg Config) (*Source, error) {
	if cfg.PageSize <= 0 || cfg.PageSize > PageSizeDefault {
		cfg.PageSize = PageSizeDefault
	}
	if cfg.Rate <= 0 {
		cfg.Rate = RateDefault
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = pacing.AttemptsDefault
	}
	if cfg.Clock == nil {
		return nil, errors.New("poolsource: Config.Clock is required")
	}
	s := &Source{cfg: cfg,
		lim:    pacing.NewLimiter(pacing.LimiterConfig{Rate: cfg.Rate, Burst: 1, Clock: cfg.Clock}),
		policy: pacing.Policy{Attempts: cfg.MaxAttempts, Base: cfg.BackoffBase, Max: cfg.BackoffMax},
		jobs:   make(chan job.Job, cfg.PageSize)}
	first, err := s.page(ctx, nil)
	if err != nil {
		return nil, listUsersError(cfg.PoolID, err)
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = cancel
	go s.list(lctx, first)
	return s, nil
}

// Redelivers is false: the pool is listed once.
func (*Source) Redelivers() bool { return false }

func listUsersError(pool string, err error) error {
	var nf *types.ResourceNotFoundException
	var na *types.NotAuthorizedException
	switch {
	case errors.As(err, &nf):
		return fmt.Errorf("user pool %s not found (check --user-pool-id and --region): %w", pool, err)
	case errors.As(err, &na), cognito.IsCredentialsError(err):
		return fmt.Errorf("listing user pool %s needs AWS credentials allowed cognito-idp:ListUsers on it: %w", pool, err)
	}
	return fmt.Errorf("ListUsers on %s: %w", pool, err)
}

// page fetches one page, retrying throttles and faults (pacing.Retry).
func (s *Source) page(ctx context.Context, token *string) (*cip.ListUsersOutput, error) {
	var out *cip.ListUsersOutput
	var last error
	err := pacing.Retry(ctx, s.cfg.Clock, s.policy, func(ctx context.Context) error {
		if err := s.lim.Wait(ctx); err != nil {
			return err
		}
		o, err := s.cfg.API.ListUsers(ctx, &cip.ListUsersInput{
			UserPoolId:      aws.String(s.cfg.PoolID),
			Filter:          aws.String(unconfirmedFilter),
			Limit:           aws.Int32(s.cfg.PageSize),
			PaginationToken: token,
		})
		out, last = o, err
		if err != nil && cognito.Classify(err).Class == job.ClassRetryable {
			return pacing.Retryable(err)
		}
		return err
	})
	if err != nil && last != nil {
		err = last
	}
	return out, err
}

func (s *Source) list(ctx context.Context, out *cip.ListUsersOutput) {
	defer close(s.jobs)
	seenTokens := map[string]bool{}
	for {
		s.Pages++
		for _, u := range out.Users {
			s.Listed++
			if j, ok := s.jobOf(u); ok {
				select {
				case s.jobs <- j:
				case <-ctx.Done():
					return
				}
			} else {
				s.Skipped++
			}
		}
		tok := aws.ToString(out.PaginationToken)
		if tok == "" || seenTokens[tok] { // a repeated token would loop forever
			return
		}
		seenTokens[tok] = true
		var err error
		if out, err = s.page(ctx, aws.String(tok)); err != nil {
			if ctx.Err() == nil {
				s.err = listUsersError(s.cfg.PoolID, err)
			}
			return
		}
	}
}

func (s *Source) jobOf(u types.UserType) (job.Job, bool) {
	if u.UserStatus != types.UserStatusTypeUnconfirmed || u.Username == nil {
		return job.Job{}, false
	}
	if created := aws.ToTime(u.UserCreateDate); !created.IsZero() {
		if !s.cfg.CreatedAfter.IsZero() && created.Before(s.cfg.CreatedAfter) {
			return job.Job{}, false
		}
		if !s.cfg.CreatedBefore.IsZero() && !created.Before(s.cfg.CreatedBefore) {
			return job.Job{}, false
		}
	}
	name := *u.Username
	// The listing says whether the user is enabled: the verify stage judges that state
	// (a disabled user gets its `disabled` row) without an AdminGetUser call.
	j := job.Job{Username: name, SourceRef: name,
		State: &job.UserState{Status: string(u.UserStatus), Enabled: u.Enabled}}
	if reason := admit.ValidateUsername(name); reason != "" {
		j.Invalid, j.Username = reason, admit.Printable(name)
	}
	return j, true
}

// Next returns the next unconfirmed user; io.EOF after the last page.
func (s *Source) Next(ctx context.Context) (job.Job, error) {
	select {
	case j, ok := <-s.jobs:
		if !ok {
			if s.err != nil {
				return job.Job{}, s.err
			}
			return job.Job{}, io.EOF
		}
		return j, nil
	case <-ctx.Done():
		return job.Job{}, context.Cause(ctx)
	}
}

// Close stops listing.
func (s *Source) Close() { s.stop() }
