package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/sethvargo/go-retry"
	"golang.org/x/time/rate"
)

// UserPoolAPI is the Cognito call the user-pool source makes (needs IAM
// cognito-idp:ListUsers, unlike the resend call).
type UserPoolAPI interface {
	ListUsers(ctx context.Context, in *cip.ListUsersInput, optFns ...func(*cip.Options)) (*cip.ListUsersOutput, error)
}

var _ UserPoolAPI = (*cip.Client)(nil)

// unconfirmedFilter is the ListUsers filter for users who never confirmed sign-up.
const unconfirmedFilter = `cognito:user_status = "UNCONFIRMED"`

// UserPoolConfig configures a UserPoolSource.
type UserPoolConfig struct {
	API    UserPoolAPI
	PoolID string
	// Rate of ListUsers calls: it has its own, smaller quota than the resend call.
	Rate     float64
	PageSize int32 // 1..60
	// CreatedAfter/CreatedBefore bound UserCreateDate (zero = unbounded).
	CreatedAfter, CreatedBefore time.Time
	MaxAttempts                 int
	BackoffBase, BackoffMax     time.Duration
}

// UserPoolSource lists a pool's UNCONFIRMED users page by page (following
// PaginationToken) in the background, so resends start while later pages are listed.
type UserPoolSource struct {
	cfg  UserPoolConfig
	lim  *rate.Limiter
	jobs chan Job
	err  error // set before jobs is closed
	stop context.CancelFunc

	// Listed counts users returned by ListUsers; Skipped those not UNCONFIRMED or
	// outside the creation window.
	Listed, Skipped int
	Pages           int
}

var _ Source = (*UserPoolSource)(nil)

// NewUserPoolSource fetches the first page before returning, so that missing
// credentials, a missing permission or a wrong pool id are found before any resend.
func NewUserPoolSource(ctx context.Context, cfg UserPoolConfig) (*UserPoolSource, error) {
	if cfg.PageSize <= 0 || cfg.PageSize > 60 {
		cfg.PageSize = 60
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 5
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 200 * time.Millisecond
	}
	if cfg.BackoffMax < cfg.BackoffBase {
		cfg.BackoffMax = 10 * time.Second
	}
	s := &UserPoolSource{cfg: cfg, lim: rate.NewLimiter(rate.Limit(cfg.Rate), 1),
		jobs: make(chan Job, cfg.PageSize)}
	first, err := s.page(ctx, nil)
	if err != nil {
		return nil, listUsersError(cfg.PoolID, err)
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = cancel
	go s.list(lctx, first)
	return s, nil
}

func listUsersError(pool string, err error) error {
	var nf *types.ResourceNotFoundException
	var na *types.NotAuthorizedException
	switch {
	case errors.As(err, &nf):
		return fmt.Errorf("user pool %s not found (check --user-pool-id and --region): %w", pool, err)
	case errors.As(err, &na), isCredentialsError(err):
		return fmt.Errorf("listing user pool %s needs AWS credentials allowed cognito-idp:ListUsers on it: %w", pool, err)
	}
	return fmt.Errorf("ListUsers on %s: %w", pool, err)
}

func isCredentialsError(err error) bool {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
			"ExpiredTokenException", "MissingAuthenticationTokenException":
			return true
		}
	}
	// The SDK fails before sending when it finds no credentials at all.
	msg := err.Error()
	return strings.Contains(msg, "failed to retrieve credentials") ||
		strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "anonymous credentials")
}

// page fetches one page, retrying throttles and faults with go-retry.
func (s *UserPoolSource) page(ctx context.Context, token *string) (*cip.ListUsersOutput, error) {
	b := newBackoff(s.cfg.MaxAttempts, s.cfg.BackoffBase, s.cfg.BackoffMax)
	var out *cip.ListUsersOutput
	var last error
	err := retry.Do(ctx, b, func(ctx context.Context) error {
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
		if err != nil && Classify(err).Class == ClassRetryable {
			return retry.RetryableError(err)
		}
		return err
	})
	if err != nil && last != nil {
		err = last
	}
	return out, err
}

func (s *UserPoolSource) list(ctx context.Context, out *cip.ListUsersOutput) {
	defer close(s.jobs)
	seenTokens := map[string]bool{}
	for {
		s.Pages++
		for _, u := range out.Users {
			s.Listed++
			if j, ok := s.job(u); ok {
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

func (s *UserPoolSource) job(u types.UserType) (Job, bool) {
	if u.UserStatus != types.UserStatusTypeUnconfirmed || u.Username == nil {
		return Job{}, false
	}
	if created := aws.ToTime(u.UserCreateDate); !created.IsZero() {
		if !s.cfg.CreatedAfter.IsZero() && created.Before(s.cfg.CreatedAfter) {
			return Job{}, false
		}
		if !s.cfg.CreatedBefore.IsZero() && !created.Before(s.cfg.CreatedBefore) {
			return Job{}, false
		}
	}
	name := *u.Username
	j := Job{Username: name, SourceRef: name}
	if reason := ValidateUsername(name); reason != "" {
		j.Invalid, j.Username = reason, printable(name)
	}
	return j, true
}

// Next returns the next unconfirmed user; io.EOF after the last page.
func (s *UserPoolSource) Next(ctx context.Context) (Job, error) {
	select {
	case j, ok := <-s.jobs:
		if !ok {
			if s.err != nil {
				return Job{}, s.err
			}
			return Job{}, io.EOF
		}
		return j, nil
	case <-ctx.Done():
		return Job{}, context.Cause(ctx)
	}
}

// Close stops listing.
func (s *UserPoolSource) Close() { s.stop() }
