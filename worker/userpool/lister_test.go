package userpool_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/clock/clocktest"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

// listPool answers ListUsers from the pool map with the two filters the tool uses:
// `cognito:user_status = "…"` (pages of Limit) and `username = "…"` (the escaped name).
type listPool struct {
	mu      sync.Mutex
	filters []string
	errs    []error
}

func unquote(v string) string { return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(v) }

func (f *listPool) ListUsers(_ context.Context, in *cip.ListUsersInput, _ ...func(*cip.Options)) (*cip.ListUsersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	filter := aws.ToString(in.Filter)
	f.filters = append(f.filters, filter)
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	attr, quoted, _ := strings.Cut(filter, " = ")
	want := unquote(strings.TrimSuffix(strings.TrimPrefix(quoted, `"`), `"`))
	var all []types.UserType
	for _, name := range []string{"alice", "bob", "dora", "adam", `q"x\y`} {
		st, ok := pool[name]
		if name == `q"x\y` {
			st, ok = job.UserState{Status: "UNCONFIRMED", Enabled: true}, true
		}
		if !ok || (attr == "username" && name != want) || (attr == "cognito:user_status" && st.Status != want) {
			continue
		}
		all = append(all, types.UserType{Username: aws.String(name), UserStatus: types.UserStatusType(st.Status), Enabled: st.Enabled})
	}
	start := 0
	if in.PaginationToken != nil {
		start = len(aws.ToString(in.PaginationToken))
	}
	end := min(start+int(aws.ToInt32(in.Limit)), len(all))
	out := &cip.ListUsersOutput{Users: all[start:end]}
	if end < len(all) {
		out.PaginationToken = aws.String(strings.Repeat("t", end))
	}
	return out, nil
}

func (f *listPool) n() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.filters)
}

func newLister(t *testing.T, api userpool.ListUsersAPI, pageSize int32) *userpool.Lister {
	clk := clockwork.NewFakeClockAt(clockStart)
	clocktest.Drive(t, clk, 2*time.Second)
	return &userpool.Lister{API: api, PoolID: "us-east-1_pool", PageSize: pageSize, Clock: clk,
		Limiter: pacing.NewLimiter(pacing.LimiterConfig{Rate: 1000, Burst: 1, Clock: clk}),
		Policy:  pacing.Policy{Attempts: 3, Base: 100 * time.Millisecond, Max: time.Second}}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	require.Equal(t, `username = "alice"`, userpool.UsernameFilter("alice"))
	require.Equal(t, `username = "q\"x\\y"`, userpool.UsernameFilter(`q"x\y`), "the quote and the backslash escaped")
	require.Equal(t, `cognito:user_status = "UNCONFIRMED"`, userpool.StatusFilter("UNCONFIRMED"))
}

// The census lists the states once (pages of PageSize) and places the users it listed,
// under the pool's case rule; a user in no listed state is not placed.
func TestCensusPlaces(t *testing.T) {
	t.Parallel()
	api := &listPool{}
	l := newLister(t, api, 1)
	cen, err := l.Census(context.Background(), []string{"UNCONFIRMED"}, admit.CaseInsensitive)
	require.NoError(t, err)
	require.Equal(t, 3, cen.Users, "alice, dora, q\"x\\y")
	require.EqualValues(t, 3, cen.Pages, "pages of 1")
	require.EqualValues(t, 3, l.Pages())
	st, ok := cen.Place("ALICE")
	require.True(t, ok, "case-insensitive pool")
	require.Equal(t, job.UserState{Status: "UNCONFIRMED", Enabled: true}, st)
	st, ok = cen.Place("dora")
	require.True(t, ok)
	require.Equal(t, job.UserState{Status: "UNCONFIRMED", Enabled: false}, st)
	for _, u := range []string{"bob", "adam", "ghost"} {
		_, ok := cen.Place(u)
		require.False(t, ok, u)
	}
}

// --verify-with listusers: the census places what it can without a call; a lookup by
// name (ListUsers) tells the others apart; no AdminGetUser is made.
func TestVerifierCensusAndLookups(t *testing.T) {
	t.Parallel()
	api := &listPool{}
	l := newLister(t, api, 60)
	cen, err := l.Census(context.Background(), []string{"UNCONFIRMED"}, admit.CaseSensitive)
	require.NoError(t, err)
	agu := &fakeUsers{users: pool}
	v, _ := newVerifier(t, agu)
	v.API, v.Census, v.Lister = nil, cen, l
	for _, tt := range []struct {
		user   string
		status job.Status // "" = send
		code   string
		msg    string
		lookup bool
	}{
		{"alice", "", "", "", false},
		{`q"x\y`, "", "", "", false},
		{"dora", job.StatusDisabled, "UserDisabled", "ListUsers: the user is disabled", false},
		{"bob", job.StatusAlreadyConfirmed, "CONFIRMED", "ListUsers: UserStatus CONFIRMED", true},
		{"adam", job.StatusNotEligible, "FORCE_CHANGE_PASSWORD", "ListUsers: admin-created user", true},
		{"ghost", job.StatusUserNotFound, "UserNotFoundException", "ListUsers: the pool has no user of this name", true},
	} {
		before := api.n()
		res, send := v.Verify(context.Background(), context.Background(), job.Job{Username: tt.user, SourceRef: "3"})
		if tt.lookup {
			require.Equal(t, before+1, api.n(), "%s: one lookup", tt.user)
			require.Equal(t, userpool.UsernameFilter(tt.user), api.filters[len(api.filters)-1])
		} else {
			require.Equal(t, before, api.n(), "%s: placed by the census, no call", tt.user)
		}
		if tt.status == "" {
			require.True(t, send, tt.user)
			continue
		}
		require.False(t, send, tt.user)
		require.Equal(t, tt.status, res.Status, tt.user)
		require.Equal(t, tt.code, res.ErrorCode, tt.user)
		require.True(t, strings.HasPrefix(res.ErrorMessage, tt.msg), "%s: %q", tt.user, res.ErrorMessage)
		require.Equal(t, job.ClassPerUser, res.Class)
		require.Equal(t, "3", res.SourceRef)
	}
	require.Zero(t, agu.n(), "no AdminGetUser")
	require.Zero(t, v.Calls())
	require.EqualValues(t, 3, l.Lookups())

	// Queue mode: no census, a lookup per user.
	v.Census = nil
	_, send := v.Verify(context.Background(), context.Background(), job.Job{Username: "alice"})
	require.True(t, send)
	require.EqualValues(t, 4, l.Lookups())
}

func TestLookupRetriesAndSystemic(t *testing.T) {
	t.Parallel()
	throttle := sdkWrap(&types.TooManyRequestsException{Message: aws.String("Rate exceeded")}, "req-t")
	api := &listPool{errs: []error{throttle}}
	v, _ := newVerifier(t, nil)
	v.API, v.Lister = nil, newLister(t, api, 60)
	_, send := v.Verify(context.Background(), context.Background(), job.Job{Username: "alice"})
	require.True(t, send, "retried after the throttle")
	require.Equal(t, 2, api.n())

	api = &listPool{errs: []error{throttle, throttle, throttle}}
	v.Lister = newLister(t, api, 60)
	res, send := v.Verify(context.Background(), context.Background(), job.Job{Username: "alice"})
	require.False(t, send)
	require.Equal(t, job.ClassRetryable, res.Class)
	require.Equal(t, "ListUsers gave up after 3 attempts: Rate exceeded; no code was sent", res.ErrorMessage)

	denied := sdkWrap(&types.NotAuthorizedException{Message: aws.String("no")}, "r")
	api = &listPool{errs: []error{denied}}
	v.Lister = newLister(t, api, 60)
	res, _ = v.Verify(context.Background(), context.Background(), job.Job{Username: "alice"})
	require.Equal(t, job.ClassSystemic, res.Class)
	require.Contains(t, res.Fix, "cognito-idp:ListUsers")
	require.Equal(t, 1, api.n())

	// Preflight with lookups: one lookup of a name no one has.
	api = &listPool{}
	v.Lister = newLister(t, api, 60)
	require.NoError(t, v.Preflight(context.Background()))
	require.Len(t, api.filters, 1)
	require.Contains(t, api.filters[0], `username = "cognito-resend-check-`)
	api = &listPool{errs: []error{denied}}
	v.Lister = newLister(t, api, 60)
	require.ErrorContains(t, v.Preflight(context.Background()), "cognito-idp:ListUsers")

	stop, cancel := context.WithCancel(context.Background())
	cancel()
	res, send = v.Verify(stop, context.Background(), job.Job{Username: "alice"})
	require.False(t, send)
	require.Equal(t, job.ClassCanceled, res.Class, "not checked: given back")
}
