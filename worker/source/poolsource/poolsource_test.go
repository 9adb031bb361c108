package poolsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

// fakePool pages a fixed user list like Cognito: Limit per page, opaque tokens.
type fakePool struct {
	mu      sync.Mutex
	users   []types.UserType
	calls   []cip.ListUsersInput
	errs    []error // returned by the first calls, in order
	loopTok bool    // answer every page with the same token
}

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

func mkUser(name string, status types.UserStatusType, created time.Time) types.UserType {
	return types.UserType{Username: aws.String(name), UserStatus: status, UserCreateDate: aws.Time(created), Enabled: true}
}

// lister is a Lister on a fake clock that moves on by a minute whenever it waits (its
// limiter, a backoff between retries): these tests are not about when.
func lister(t *testing.T, f *fakePool, pageSize int32) *userpool.Lister {
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	clocktest.Drive(t, clk, time.Minute)
	return &userpool.Lister{API: f, PoolID: "pool-1", PageSize: pageSize, Clock: clk,
		Limiter: pacing.NewLimiter(pacing.LimiterConfig{Rate: 1000, Burst: 1, Clock: clk}),
		Policy:  pacing.Policy{Attempts: 3, Base: time.Second, Max: time.Second}}
}

var header = Header{UserPoolID: "pool-1", Statuses: []string{"UNCONFIRMED"}}

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

// listAndOpen lists f into a snapshot and opens it.
func listAndOpen(t *testing.T, f *fakePool, pageSize int32, w Window) (Listing, []job.Job) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.csv.pool")
	l, err := List(context.Background(), lister(t, f, pageSize), path, header, w)
	require.NoError(t, err)
	checked, err := Check(path)
	require.NoError(t, err)
	require.Equal(t, l.Users, checked.Users)
	s, err := Open(path)
	require.NoError(t, err)
	defer s.Close()
	jobs, err := drain(t, s)
	require.NoError(t, err)
	require.EqualValues(t, len(jobs), s.Read())
	return l, jobs
}

func TestListPagesAndFilters(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	f := &fakePool{}
	for i := range 25 {
		st := types.UserStatusTypeUnconfirmed
		if i%5 == 4 {
			st = types.UserStatusTypeConfirmed // a filter Cognito ignored must not leak through
		}
		f.users = append(f.users, mkUser(fmt.Sprintf("u%02d", i), st, t0.Add(time.Duration(i)*time.Hour)))
	}
	l, jobs := listAndOpen(t, f, 7, Window{After: t0.Add(2 * time.Hour), Before: t0.Add(20 * time.Hour)})
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
	require.Equal(t, 14, l.Users)
	require.Equal(t, 11, l.Skipped)
	require.EqualValues(t, 4, l.Pages)
}

// Every state of the set is listed, one filter each; each job carries its state,
// Enabled included: the verify stage turns a disabled user into its `disabled` row
// without a call.
func TestListStatesAndCarriesUserState(t *testing.T) {
	t.Parallel()
	on := mkUser("on", types.UserStatusTypeUnconfirmed, time.Now())
	off := mkUser("off", types.UserStatusTypeUnconfirmed, time.Now())
	off.Enabled = false
	odd := mkUser(`we"ird\name`, types.UserStatusTypeUnconfirmed, time.Now())
	f := &fakePool{users: []types.UserType{on, off, odd}}
	_, jobs := listAndOpen(t, f, 60, Window{})
	require.Len(t, jobs, 3)
	require.Equal(t, &job.UserState{Status: "UNCONFIRMED", Enabled: true}, jobs[0].State)
	require.Equal(t, &job.UserState{Status: "UNCONFIRMED", Enabled: false}, jobs[1].State)
	require.Equal(t, `we"ird\name`, jobs[2].Username, "quoted in the file, read back as it was")

	two := Header{UserPoolID: "pool-1", Statuses: []string{"UNCONFIRMED", "FORCE_CHANGE_PASSWORD"}}
	f = &fakePool{users: []types.UserType{on}}
	path := filepath.Join(t.TempDir(), "p")
	_, err := List(context.Background(), lister(t, f, 60), path, two, Window{})
	require.NoError(t, err)
	require.Equal(t, []string{`cognito:user_status = "UNCONFIRMED"`, `cognito:user_status = "FORCE_CHANGE_PASSWORD"`},
		[]string{aws.ToString(f.calls[0].Filter), aws.ToString(f.calls[1].Filter)})
}

func TestListErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		err   error
		want  string
		calls int
	}{
		"pool not found": {&types.ResourceNotFoundException{Message: aws.String("User pool x does not exist.")}, "check --user-pool-id", 1},
		"not authorized": {&types.NotAuthorizedException{Message: aws.String("no")}, "cognito-idp:ListUsers", 1},
		"no credentials": {errors.New("operation error: failed to retrieve credentials: no EC2 IMDS role found"), "cognito-idp:ListUsers", 1},
		"throttled":      {&types.TooManyRequestsException{Message: aws.String("slow down")}, "", 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := &fakePool{errs: []error{tc.err}, users: []types.UserType{mkUser("a", types.UserStatusTypeUnconfirmed, time.Now())}}
			path := filepath.Join(t.TempDir(), "p")
			_, err := List(context.Background(), lister(t, f, 60), path, header, Window{})
			require.Len(t, f.calls, tc.calls)
			if tc.want == "" {
				require.NoError(t, err, "retried by the one retry helper (cognito.Call)")
				return
			}
			require.ErrorContains(t, err, tc.want)
			_, statErr := os.Stat(path)
			require.ErrorIs(t, statErr, os.ErrNotExist, "no snapshot from a failed listing")
		})
	}
}

func TestListStopsOnRepeatedToken(t *testing.T) {
	t.Parallel()
	f := &fakePool{users: []types.UserType{mkUser("a", types.UserStatusTypeUnconfirmed, time.Now())}, loopTok: true}
	l, jobs := listAndOpen(t, f, 60, Window{})
	require.Len(t, jobs, 2, "the first page, then the repeated token's page once")
	require.Len(t, f.calls, 2)
	require.Equal(t, 2, l.Users)
}

// A snapshot cut short — no trailer, a torn last line — is ErrIncomplete; one whose
// trailer does not match its lines — a user lost, two names swapped (the same count), a
// name edited, a line past the end, an earlier version's trailer without a checksum —
// is ErrChanged: to Check, and to a Source reading it.
func TestSnapshotIncompleteOrChanged(t *testing.T) {
	t.Parallel()
	f := &fakePool{users: []types.UserType{mkUser("a", types.UserStatusTypeUnconfirmed, time.Now()),
		mkUser("b", types.UserStatusTypeUnconfirmed, time.Now())}}
	path := filepath.Join(t.TempDir(), "p")
	_, err := List(context.Background(), lister(t, f, 60), path, header, Window{})
	require.NoError(t, err)
	_, err = Check(path)
	require.NoError(t, err)
	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(whole), "\n")
	require.Len(t, lines, 5, "header, 2 users, end, and the empty tail")
	require.Regexp(t, `^end 2 users 1 pages 0 skipped sha256 [0-9a-f]{64}\n$`, lines[3])
	for name, c := range map[string]struct {
		body string
		want error
	}{
		"no trailer":     {lines[0] + lines[1] + lines[2], ErrIncomplete},
		"torn line":      {lines[0] + lines[1] + lines[2][:3], ErrIncomplete},
		"not snapshot":   {"username\nalice\n", ErrIncomplete},
		"empty":          {"", ErrIncomplete},
		"a user lost":    {lines[0] + lines[1] + lines[3], ErrChanged},
		"names swapped":  {lines[0] + lines[2] + lines[1] + lines[3], ErrChanged},
		"name edited":    {lines[0] + strings.Replace(lines[1], `"a"`, `"z"`, 1) + lines[2] + lines[3], ErrChanged},
		"line past end":  {string(whole) + lines[1], ErrChanged},
		"no checksum":    {lines[0] + lines[1] + lines[2] + "end 2 users 1 pages 0 skipped\n", ErrChanged},
		"header changed": {strings.Replace(lines[0], "pool-1", "pool-2", 1) + lines[1] + lines[2] + lines[3], ErrChanged},
	} {
		bad := filepath.Join(t.TempDir(), "bad")
		require.NoError(t, os.WriteFile(bad, []byte(c.body), 0o600))
		_, err := Check(bad)
		require.ErrorIs(t, err, c.want, name)
		if s, err := Open(bad); err == nil {
			_, err = drain(t, s)
			s.Close()
			require.Error(t, err, name+": a Source reading it")
		}
	}
	_, err = Check(filepath.Join(t.TempDir(), "none"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// Read is safe from another goroutine while Next runs (the progress and the summary read
// it during the run): go test -race.
func TestSourceReadWhileNext(t *testing.T) {
	t.Parallel()
	var users []types.UserType
	for i := range 500 {
		users = append(users, mkUser(fmt.Sprintf("u%03d", i), types.UserStatusTypeUnconfirmed, time.Now()))
	}
	path := filepath.Join(t.TempDir(), "p")
	_, err := List(context.Background(), lister(t, &fakePool{users: users}, 60), path, header, Window{})
	require.NoError(t, err)
	s, err := Open(path)
	require.NoError(t, err)
	defer s.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 { // reads while the drain below runs: the race detector's to judge
			_ = s.Read()
		}
	}()
	jobs, err := drain(t, s)
	require.NoError(t, err)
	<-done
	require.Len(t, jobs, 500)
}
