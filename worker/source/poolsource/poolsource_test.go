package poolsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/clock/clocktest"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// fakePool pages a fixed user list like Cognito: Limit per page, opaque tokens.
type fakePool struct {
	UserPoolAPI
	mu      sync.Mutex
	users   []types.UserType
	calls   []cip.ListUsersInput
	errs    []error // returned by the first calls, in order
	loopTok bool    // answer every page with the same token
}

var _ UserPoolAPI = (*fakePool)(nil)

func (f *fakePool) ListUsers(_ context.Context, in *cip.ListUsersInput, _ ...func(*cip.Options)) (*cip.ListUsersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, *in)
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		if err != nil {
			return nil, err
		}
	}
	start := 0
	if in.PaginationToken != nil {
		fmt.Sscanf(*in.PaginationToken, "tok-%d", &start)
	}
	end := min(start+int(aws.ToInt32(in.Limit)), len(f.users))
	out := &cip.ListUsersOutput{Users: f.users[start:end]}
	if end < len(f.users) {
		out.PaginationToken = aws.String(fmt.Sprintf("tok-%d", end))
	}
	if f.loopTok {
		out.PaginationToken = aws.String("tok-0")
	}
	return out, nil
}

func user(name string, status types.UserStatusType, created time.Time) types.UserType {
	return types.UserType{Username: aws.String(name), UserStatus: status, UserCreateDate: aws.Time(created)}
}

// driven is a fake clock that moves on by a minute whenever the source waits on it (its
// limiter, a backoff between retries): these tests are not about when.
func driven(t *testing.T) *clockwork.FakeClock {
	c := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	clocktest.Drive(t, c, time.Minute)
	return c
}

func drain(t *testing.T, s job.Source) ([]job.Job, error) {
	t.Helper()
	var jobs []job.Job
	for range 10000 {
		j, err := s.Next(context.Background())
		if err != nil {
			if errors.Is(err, io.EOF) {
				return jobs, nil
			}
			return jobs, err
		}
		jobs = append(jobs, j)
	}
	t.Fatal("source never ended")
	return nil, nil
}

func TestUserPoolSourcePagesAndFilters(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	f := &fakePool{}
	for i := range 25 {
		st := types.UserStatusTypeUnconfirmed
		if i%5 == 4 {
			st = types.UserStatusTypeConfirmed // a filter Cognito ignored must not leak through
		}
		f.users = append(f.users, user(fmt.Sprintf("u%02d", i), st, t0.Add(time.Duration(i)*time.Hour)))
	}
	s, err := New(context.Background(), Config{Clock: driven(t), API: f, PoolID: "pool-1", PageSize: 7, Rate: 1000,
		CreatedAfter: t0.Add(2 * time.Hour), CreatedBefore: t0.Add(20 * time.Hour)})
	require.NoError(t, err)
	jobs, err := drain(t, s)
	require.NoError(t, err)
	var names []string
	for _, j := range jobs {
		require.Empty(t, j.Invalid)
		require.Equal(t, j.Username, j.SourceRef)
		names = append(names, j.Username)
	}
	require.Equal(t, []string{"u02", "u03", "u05", "u06", "u07", "u08", "u10", "u11", "u12", "u13", "u15", "u16", "u17", "u18"}, names)
	require.Len(t, f.calls, 4, "25 users in pages of 7")
	for i, c := range f.calls {
		require.Equal(t, `cognito:user_status = "UNCONFIRMED"`, aws.ToString(c.Filter))
		require.Equal(t, int32(7), aws.ToInt32(c.Limit))
		require.Equal(t, "pool-1", aws.ToString(c.UserPoolId))
		if i == 0 {
			require.Nil(t, c.PaginationToken)
		} else {
			require.Equal(t, fmt.Sprintf("tok-%d", 7*i), aws.ToString(c.PaginationToken))
		}
	}
	require.Equal(t, 25, s.Listed)
	require.Equal(t, 11, s.Skipped)
}

func TestUserPoolSourceFirstPageErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		err  error
		want string
	}{
		"pool not found": {&types.ResourceNotFoundException{Message: aws.String("User pool x does not exist.")}, "--user-pool-id"},
		"not authorized": {&types.NotAuthorizedException{Message: aws.String("no")}, "cognito-idp:ListUsers"},
		"no credentials": {errors.New("operation error: failed to retrieve credentials: no EC2 IMDS role found"), "cognito-idp:ListUsers"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := &fakePool{errs: []error{tc.err}}
			_, err := New(context.Background(), Config{Clock: driven(t), API: f, PoolID: "x", Rate: 1000})
			require.ErrorContains(t, err, tc.want)
			require.Len(t, f.calls, 1, "not retried")
		})
	}
}

func TestUserPoolSourceRetriesThrottleAndStopsOnRepeatedToken(t *testing.T) {
	t.Parallel()
	f := &fakePool{users: []types.UserType{user("a", types.UserStatusTypeUnconfirmed, time.Now())}, loopTok: true,
		errs: []error{&types.TooManyRequestsException{Message: aws.String("slow down")}}}
	s, err := New(context.Background(), Config{Clock: driven(t), API: f, PoolID: "p", Rate: 1000})
	require.NoError(t, err)
	jobs, err := drain(t, s)
	require.NoError(t, err)
	require.Len(t, jobs, 2, "the first page, then the repeated token's page once")
	require.Len(t, f.calls, 3, "throttled once, retried, then one more page")
}

func TestUserPoolSourceLaterPageErrorEndsSource(t *testing.T) {
	t.Parallel()
	f := &fakePool{users: []types.UserType{user("a", types.UserStatusTypeUnconfirmed, time.Now()),
		user("b", types.UserStatusTypeUnconfirmed, time.Now())},
		errs: []error{nil, &types.ResourceNotFoundException{Message: aws.String("gone")}}}
	s, err := New(context.Background(), Config{Clock: driven(t), API: f, PoolID: "p", PageSize: 1, Rate: 1000})
	require.NoError(t, err)
	jobs, err := drain(t, s)
	require.ErrorContains(t, err, "not found")
	require.Len(t, jobs, 1)
}

// Each job carries the state the listing gave, Enabled included: the verify stage turns a
// disabled user into its `disabled` row without a call.
func TestUserPoolSourceCarriesUserState(t *testing.T) {
	t.Parallel()
	on := user("on", types.UserStatusTypeUnconfirmed, time.Now())
	on.Enabled = true
	off := user("off", types.UserStatusTypeUnconfirmed, time.Now())
	s, err := New(context.Background(), Config{Clock: driven(t), API: &fakePool{users: []types.UserType{on, off}}, PoolID: "p", Rate: 1000})
	require.NoError(t, err)
	jobs, err := drain(t, s)
	require.NoError(t, err)
	require.Len(t, jobs, 2)
	require.Equal(t, &job.UserState{Status: "UNCONFIRMED", Enabled: true}, jobs[0].State)
	require.Equal(t, &job.UserState{Status: "UNCONFIRMED", Enabled: false}, jobs[1].State)
}
