package userpool_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/clock/clocktest"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

var clockStart = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// sdkWrap wraps err the way the SDK's deserializers and handler stack do.
func sdkWrap(err error, requestID string) error {
	return &smithy.OperationError{ServiceID: "Cognito Identity Provider", OperationName: "AdminGetUser",
		Err: &awshttp.ResponseError{RequestID: requestID, ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}}, Err: err}}}
}

// The status mapping: only UNCONFIRMED and enabled goes on to the resend.
func TestJudge(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status  string
		enabled bool
		want    job.Status // "" = send
		code    string
		reason  string // a fragment of the row's reason
	}{
		{"UNCONFIRMED", true, "", "", ""},
		{"UNCONFIRMED", false, job.StatusDisabled, "UserDisabled", "disabled"},
		{"CONFIRMED", true, job.StatusAlreadyConfirmed, "CONFIRMED", "already confirmed"},
		{"CONFIRMED", false, job.StatusAlreadyConfirmed, "CONFIRMED", "already confirmed"},
		{"FORCE_CHANGE_PASSWORD", true, job.StatusNotEligible, "FORCE_CHANGE_PASSWORD",
			"admin-created user: needs AdminCreateUser with MessageAction=RESEND, not ResendConfirmationCode"},
		{"FORCE_CHANGE_PASSWORD", false, job.StatusDisabled, "UserDisabled", "AdminEnableUser"},
		{"RESET_REQUIRED", true, job.StatusNotEligible, "RESET_REQUIRED", "ForgotPassword"},
		{"EXTERNAL_PROVIDER", true, job.StatusNotEligible, "EXTERNAL_PROVIDER", "federated user"},
		{"ARCHIVED", true, job.StatusNotEligible, "ARCHIVED", "not active"},
		{"COMPROMISED", true, job.StatusNotEligible, "COMPROMISED", "not active"},
		{"UNKNOWN", true, job.StatusNotEligible, "UNKNOWN", "not awaiting sign-up confirmation"},
		{"SOMETHING_NEW", true, job.StatusNotEligible, "SOMETHING_NEW", "not awaiting sign-up confirmation"},
		{"", true, job.StatusNotEligible, "", "no UserStatus"},
	} {
		v := userpool.Judge(job.UserState{Status: tt.status, Enabled: tt.enabled})
		name := tt.status + map[bool]string{true: "/enabled", false: "/disabled"}[tt.enabled]
		if tt.want == "" {
			require.True(t, v.Send, name)
			continue
		}
		require.False(t, v.Send, name)
		require.Equal(t, tt.want, v.Status, name)
		require.Equal(t, tt.code, v.Code, name)
		require.Contains(t, v.Reason, tt.reason, name)
		require.True(t, v.Status.Conclusive(), "%s: Cognito's word on the user is final", name)
	}
}

// fakeUsers answers AdminGetUser from a map, after the scripted errors.
type fakeUsers struct {
	mu    sync.Mutex
	users map[string]job.UserState
	errs  []error
	calls []string
}

func (f *fakeUsers) AdminGetUser(_ context.Context, in *cip.AdminGetUserInput, _ ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, aws.ToString(in.UserPoolId)+"/"+aws.ToString(in.Username))
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	st, ok := f.users[aws.ToString(in.Username)]
	if !ok {
		return nil, sdkWrap(&types.UserNotFoundException{Message: aws.String("User does not exist.")}, "req-nf")
	}
	out := &cip.AdminGetUserOutput{Username: in.Username, UserStatus: types.UserStatusType(st.Status), Enabled: st.Enabled}
	awsmiddleware.SetRequestIDMetadata(&out.ResultMetadata, "req-"+aws.ToString(in.Username))
	return out, nil
}

func (f *fakeUsers) n() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

type recLimiter struct {
	mu               sync.Mutex
	waits, throttles int
}

func (l *recLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits++
	return ctx.Err()
}

func (l *recLimiter) Observe(_ time.Time, throttled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if throttled {
		l.throttles++
	}
}

// newVerifier is a verifier on a fake clock that moves on by 2 s (past any one backoff
// wait of its 100 ms–1 s schedule) whenever the verifier waits on it.
func newVerifier(t *testing.T, api userpool.AdminGetUserAPI) (*userpool.Verifier, *recLimiter) {
	clk := clockwork.NewFakeClockAt(clockStart)
	clocktest.Drive(t, clk, 2*time.Second)
	lim := &recLimiter{}
	return &userpool.Verifier{API: api, PoolID: "us-east-1_pool", Limiter: lim, Retry: pacing.Policy{Attempts: 3, Base: 100 * time.Millisecond, Max: time.Second}, Clock: clk}, lim
}

var pool = map[string]job.UserState{
	"alice": {Status: "UNCONFIRMED", Enabled: true},
	"bob":   {Status: "CONFIRMED", Enabled: true},
	"dora":  {Status: "UNCONFIRMED", Enabled: false},
	"adam":  {Status: "FORCE_CHANGE_PASSWORD", Enabled: true},
}

func TestVerifierVerdicts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		user   string
		status job.Status // "" = send
		code   string
		msg    string
	}{
		{"alice", "", "", ""},
		{"ghost", job.StatusUserNotFound, "UserNotFoundException", "AdminGetUser: User does not exist."},
		{"bob", job.StatusAlreadyConfirmed, "CONFIRMED", "AdminGetUser: UserStatus CONFIRMED"},
		{"dora", job.StatusDisabled, "UserDisabled", "AdminGetUser: the user is disabled"},
		{"adam", job.StatusNotEligible, "FORCE_CHANGE_PASSWORD",
			"AdminGetUser: admin-created user: needs AdminCreateUser with MessageAction=RESEND, not ResendConfirmationCode"},
	} {
		api := &fakeUsers{users: pool}
		v, lim := newVerifier(t, api)
		res, send := v.Verify(context.Background(), context.Background(), job.Job{Username: tt.user, SourceRef: "7"})
		require.Equal(t, []string{"us-east-1_pool/" + tt.user}, api.calls, tt.user)
		require.Equal(t, 1, lim.waits, "%s: the call waited on the verify limiter", tt.user)
		require.Equal(t, int64(1), v.Calls())
		if tt.status == "" {
			require.True(t, send, tt.user)
			continue
		}
		require.False(t, send, tt.user)
		require.Equal(t, tt.status, res.Status, tt.user)
		require.Equal(t, tt.code, res.ErrorCode, tt.user)
		require.True(t, strings.HasPrefix(res.ErrorMessage, tt.msg), "%s: %q", tt.user, res.ErrorMessage)
		require.Equal(t, job.ClassPerUser, res.Class, tt.user)
		require.Equal(t, 0, res.Attempts, "%s: no resend attempt", tt.user)
		require.False(t, res.Ambiguous)
		require.Equal(t, "7", res.SourceRef)
		require.Equal(t, clockStart, res.StartedAt)
		require.NotEmpty(t, res.RequestID, tt.user)
	}
}

// A state the source listed is judged without a call; without an API every other job
// goes on unchecked.
func TestVerifierKnownStateAndNoAPI(t *testing.T) {
	t.Parallel()
	api := &fakeUsers{users: pool}
	v, _ := newVerifier(t, api)
	res, send := v.Verify(context.Background(), context.Background(),
		job.Job{Username: "zed", State: &job.UserState{Status: "UNCONFIRMED", Enabled: false}})
	require.False(t, send)
	require.Equal(t, job.StatusDisabled, res.Status)
	require.True(t, strings.HasPrefix(res.ErrorMessage, "ListUsers: the user is disabled"), res.ErrorMessage)
	_, send = v.Verify(context.Background(), context.Background(),
		job.Job{Username: "zed", State: &job.UserState{Status: "UNCONFIRMED", Enabled: true}})
	require.True(t, send)
	require.Zero(t, api.n(), "a known state needs no AdminGetUser")

	v.API = nil
	_, send = v.Verify(context.Background(), context.Background(), job.Job{Username: "anyone"})
	require.True(t, send)
	res, send = v.Verify(context.Background(), context.Background(),
		job.Job{Username: "zed", State: &job.UserState{Status: "UNCONFIRMED", Enabled: false}})
	require.False(t, send, "the pool source's Enabled check needs no --verify-users")
	require.Equal(t, job.StatusDisabled, res.Status)
}

func TestVerifierRetriesThrottlesThenGivesUp(t *testing.T) {
	t.Parallel()
	throttle := sdkWrap(&types.TooManyRequestsException{Message: aws.String("Rate exceeded")}, "req-t")

	api := &fakeUsers{users: pool, errs: []error{throttle}}
	v, lim := newVerifier(t, api)
	_, send := v.Verify(context.Background(), context.Background(), job.Job{Username: "alice"})
	require.True(t, send, "retried after the throttle")
	require.Equal(t, 2, api.n())
	require.Equal(t, 1, lim.throttles, "the throttle slowed the verify limiter")

	api = &fakeUsers{users: pool, errs: []error{throttle, throttle, throttle, throttle}}
	v, _ = newVerifier(t, api)
	res, send := v.Verify(context.Background(), context.Background(), job.Job{Username: "alice"})
	require.False(t, send)
	require.Equal(t, 3, api.n(), "MaxAttempts")
	require.Equal(t, job.StatusFailed, res.Status)
	require.Equal(t, job.ClassRetryable, res.Class, "a queue redelivers it")
	require.Equal(t, "TooManyRequestsException", res.ErrorCode)
	require.Equal(t, "AdminGetUser gave up after 3 attempts: Rate exceeded; no code was sent", res.ErrorMessage)
	require.Equal(t, 0, res.Attempts)
	require.False(t, res.Ambiguous, "a read: nothing may have been sent")
}

func TestVerifierSystemic(t *testing.T) {
	t.Parallel()
	for name, err := range map[string]error{
		"access denied": sdkWrap(&smithy.GenericAPIError{Code: "AccessDeniedException",
			Message: "User: arn:aws:iam::000000000000:user/x is not authorized to perform: cognito-idp:AdminGetUser"}, "req-ad"),
		"not authorized": sdkWrap(&types.NotAuthorizedException{Message: aws.String("no")}, "req-na"),
		"no credentials": errors.New("operation error Cognito Identity Provider: AdminGetUser, failed to retrieve credentials: no EC2 IMDS role found"),
	} {
		api := &fakeUsers{users: pool, errs: []error{err}}
		v, _ := newVerifier(t, api)
		res, send := v.Verify(context.Background(), context.Background(), job.Job{Username: "alice"})
		require.False(t, send, name)
		require.Equal(t, job.ClassSystemic, res.Class, name)
		require.Contains(t, res.Fix, "cognito-idp:AdminGetUser on user pool us-east-1_pool", name)
		require.Contains(t, res.Fix, "deploy/iam/policy-verify-users.json", name)
		require.Equal(t, 1, api.n(), "%s: not retried", name)
	}
	api := &fakeUsers{errs: []error{sdkWrap(&types.ResourceNotFoundException{Message: aws.String("User pool us-east-1_pool does not exist.")}, "r")}}
	v, _ := newVerifier(t, api)
	res, _ := v.Verify(context.Background(), context.Background(), job.Job{Username: "alice"})
	require.Equal(t, job.ClassSystemic, res.Class)
	require.Equal(t, "user pool us-east-1_pool not found: check --user-pool-id and --region", res.Fix)
}

func TestVerifierStopped(t *testing.T) {
	t.Parallel()
	api := &fakeUsers{users: pool}
	v, _ := newVerifier(t, api)
	stop, cancel := context.WithCancel(context.Background())
	cancel()
	res, send := v.Verify(stop, context.Background(), job.Job{Username: "alice"})
	require.False(t, send)
	require.Equal(t, job.ClassCanceled, res.Class, "not checked: given back")
	require.Zero(t, api.n())
}

// The verify stage uses its own limiter: the resend limiter is not waited on, and the
// verify limiter's rate is what paces AdminGetUser.
func TestVerifierOwnLimiter(t *testing.T) {
	t.Parallel()
	clock := clockwork.NewFakeClockAt(clockStart)
	verifyLim := pacing.NewLimiter(pacing.LimiterConfig{Rate: 10, Burst: 1, Clock: clock})
	resendLim := pacing.NewLimiter(pacing.LimiterConfig{Rate: 10, Burst: 1, Clock: clock})
	resendLim.PauseFor(time.Hour) // a paused resend limiter must not hold the check
	api := &fakeUsers{users: pool}
	v := &userpool.Verifier{API: api, PoolID: "p", Limiter: verifyLim, Retry: pacing.Policy{Attempts: 1}, Clock: clock}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 3 {
			v.Verify(context.Background(), context.Background(), job.Job{Username: "alice"})
		}
	}()
	// The first token is there; the next two each wait 100 ms of the fake clock.
	for range 2 {
		require.NoError(t, clock.BlockUntilContext(t.Context(), 1))
		clock.Advance(100 * time.Millisecond)
	}
	<-done
	require.Equal(t, 3, api.n())
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	api := &fakeUsers{users: pool}
	v, _ := newVerifier(t, api)
	require.NoError(t, v.Preflight(context.Background()), "UserNotFoundException: the permission works")
	require.Len(t, api.calls, 1)
	require.Regexp(t, `^us-east-1_pool/cognito-resend-check-[0-9a-f]{16}$`, api.calls[0])
	require.Empty(t, admit.ValidateUsername(strings.TrimPrefix(api.calls[0], "us-east-1_pool/")), "the probe is a valid username")

	api = &fakeUsers{errs: []error{sdkWrap(&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized"}, "r")}}
	v, _ = newVerifier(t, api)
	err := v.Preflight(context.Background())
	var pe *userpool.PreflightError
	require.ErrorAs(t, err, &pe)
	require.EqualError(t, err, "--verify-users: AdminGetUser: not authorized (AccessDeniedException); fix: --verify-users calls "+
		"cognito-idp:AdminGetUser on user pool us-east-1_pool: allow it for these AWS credentials "+
		"(deploy/iam/policy-verify-users.json), or run without --verify-users")

	throttle := sdkWrap(&types.TooManyRequestsException{Message: aws.String("Rate exceeded")}, "req-t")
	api = &fakeUsers{errs: []error{throttle, throttle, throttle}}
	v, _ = newVerifier(t, api)
	require.ErrorContains(t, v.Preflight(context.Background()), "gave up after 3 attempts")

	v.API = nil
	require.NoError(t, v.Preflight(context.Background()), "nothing to check without --verify-users")
}

// fakeDescribe answers DescribeUserPool with a fixed pool, after scripted errors.
type fakeDescribe struct {
	uc    *types.UsernameConfigurationType
	users int32
	errs  []error
	calls int
}

func (f *fakeDescribe) DescribeUserPool(_ context.Context, in *cip.DescribeUserPoolInput, _ ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error) {
	f.calls++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	return &cip.DescribeUserPoolOutput{UserPool: &types.UserPoolType{Id: in.UserPoolId, UsernameConfiguration: f.uc,
		EstimatedNumberOfUsers: f.users}}, nil
}

// The same DescribeUserPool tells the pool's size (--verify-users weighs a census of the
// pool against a lookup per user with it); -1 when the pool was not read.
func TestResolveCasePoolUsers(t *testing.T) {
	t.Parallel()
	rule, err := userpool.ResolveCase(context.Background(), userpool.CaseOptions{API: &fakeDescribe{users: 123_456}, PoolID: "p", Clock: clockwork.NewFakeClock()})
	require.NoError(t, err)
	require.Equal(t, 123_456, rule.PoolUsers)
	rule, err = userpool.ResolveCase(context.Background(), userpool.CaseOptions{})
	require.NoError(t, err)
	require.Equal(t, -1, rule.PoolUsers)
	denied := sdkWrap(&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}, "r")
	rule, err = userpool.ResolveCase(context.Background(), userpool.CaseOptions{API: &fakeDescribe{errs: []error{denied}}, PoolID: "p", Clock: clockwork.NewFakeClock()})
	require.NoError(t, err)
	require.Equal(t, -1, rule.PoolUsers)
}

func TestResolveCase(t *testing.T) {
	t.Parallel()
	sensitive := &types.UsernameConfigurationType{CaseSensitive: aws.Bool(true)}
	insensitive := &types.UsernameConfigurationType{CaseSensitive: aws.Bool(false)}
	denied := sdkWrap(&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: cognito-idp:DescribeUserPool"}, "r")
	yes, no := aws.Bool(true), aws.Bool(false)
	for _, tt := range []struct {
		name  string
		api   *fakeDescribe // nil: no pool id
		flag  *bool
		want  string
		warns string // a fragment of the warning, "" = none
	}{
		{"no pool, no flag", nil, nil, "usernames compared case-insensitively (default; pass --case-sensitive-usernames for pools created case-sensitive)", ""},
		{"no pool, flag", nil, yes, "usernames compared case-sensitively (--case-sensitive-usernames)", ""},
		{"no pool, flag false", nil, no, "usernames compared case-insensitively (--case-sensitive-usernames)", ""},
		{"pool insensitive", &fakeDescribe{uc: insensitive}, nil, "usernames compared case-insensitively (pool setting)", ""},
		{"pool sensitive", &fakeDescribe{uc: sensitive}, nil, "usernames compared case-sensitively (pool setting)", ""},
		{"pool without UsernameConfiguration", &fakeDescribe{}, nil,
			"usernames compared case-sensitively (pool setting: no UsernameConfiguration, so case-sensitive, the API's default)", ""},
		{"flag agrees", &fakeDescribe{uc: sensitive}, yes, "usernames compared case-sensitively (pool setting)", ""},
		{"flag disagrees: the pool wins", &fakeDescribe{uc: insensitive}, yes, "usernames compared case-insensitively (pool setting)",
			"--case-sensitive-usernames=true disagrees with the user pool; following the pool"},
		{"denied, no flag", &fakeDescribe{errs: []error{denied}}, nil,
			"usernames compared case-insensitively (default; pass --case-sensitive-usernames for pools created case-sensitive)",
			"not allowed to read the pool's username case setting (IAM cognito-idp:DescribeUserPool)"},
		{"denied, flag", &fakeDescribe{errs: []error{denied}}, yes, "usernames compared case-sensitively (--case-sensitive-usernames)",
			"cognito-idp:DescribeUserPool"},
		{"throttled once", &fakeDescribe{uc: sensitive, errs: []error{sdkWrap(&types.TooManyRequestsException{}, "r")}}, nil,
			"usernames compared case-sensitively (pool setting)", ""},
	} {
		var logs bytes.Buffer
		clk := clockwork.NewFakeClockAt(clockStart)
		clocktest.Drive(t, clk, time.Second)
		o := userpool.CaseOptions{Flag: tt.flag, Policy: pacing.Policy{Attempts: 3, Base: time.Second, Max: time.Second},
			Logger: slog.New(slog.NewTextHandler(&logs, nil)), Clock: clk}
		if tt.api != nil {
			o.API, o.PoolID = tt.api, "us-east-1_pool"
		}
		rule, err := userpool.ResolveCase(context.Background(), o)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, rule.String(), tt.name)
		if strings.Contains(tt.want, "case-sensitively") {
			require.Equal(t, admit.CaseSensitive, rule.Case, tt.name)
		} else {
			require.Equal(t, admit.CaseInsensitive, rule.Case, tt.name)
		}
		if tt.warns == "" {
			require.Empty(t, logs.String(), tt.name)
		} else {
			require.Contains(t, logs.String(), "level=WARN", tt.name)
			require.Contains(t, logs.String(), tt.warns, tt.name)
		}
		if tt.api != nil {
			require.LessOrEqual(t, tt.api.calls, 2, "%s: read once (one retry after the throttle)", tt.name)
		}
	}

	_, err := userpool.ResolveCase(context.Background(), userpool.CaseOptions{PoolID: "us-east-1_gone", Clock: clockwork.NewFakeClock(),
		API: &fakeDescribe{errs: []error{sdkWrap(&types.ResourceNotFoundException{Message: aws.String("User pool us-east-1_gone does not exist.")}, "r")}}})
	require.EqualError(t, err, "user pool us-east-1_gone not found (check --user-pool-id and --region): User pool us-east-1_gone does not exist.")

	require.Panics(t, func() {
		_, _ = userpool.ResolveCase(context.Background(), userpool.CaseOptions{PoolID: "us-east-1_pool", API: &fakeDescribe{}})
	}, "reading a pool needs a clock: no silent system clock")
}

var _ cognito.Limiter = (*recLimiter)(nil)

// A connection never made: during the run the check retries it without spending an
// attempt (its breaker's --max-outage bounds an outage); the start-up check spends
// attempts, so an unreachable endpoint is an error at once instead of a wait.
func TestVerifierUnsentFaults(t *testing.T) {
	t.Parallel()
	refused := &smithy.OperationError{Err: &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}}
	errs := func(n int) []error {
		out := make([]error, n)
		for i := range out {
			out[i] = refused
		}
		return out
	}

	api := &fakeUsers{users: pool, errs: errs(10)}
	v, _ := newVerifier(t, api)
	_, send := v.Verify(context.Background(), context.Background(), job.Job{Username: "alice"})
	require.True(t, send, "checked once the endpoint answered")
	require.Equal(t, 11, api.n(), "10 refused attempts spent none of MaxAttempts 3")

	api = &fakeUsers{errs: errs(10)}
	v, _ = newVerifier(t, api)
	err := v.Preflight(context.Background())
	require.ErrorContains(t, err, "gave up after 3 attempts")
	require.Equal(t, 3, api.n(), "the start-up check spends its attempts")
}

// With --invitations the rule picks each user's message from their state: a confirmation
// code for UNCONFIRMED, an invitation for FORCE_CHANGE_PASSWORD; a disabled or confirmed
// user still gets nothing, and without it FORCE_CHANGE_PASSWORD stays not_eligible.
func TestRuleInvitations(t *testing.T) {
	t.Parallel()
	inv := userpool.Rule{Invitations: true}
	for _, tt := range []struct {
		status  string
		enabled bool
		rule    userpool.Rule
		send    bool
		msg     job.Message
		row     job.Status
	}{
		{"UNCONFIRMED", true, inv, true, job.MessageConfirmation, ""},
		{"FORCE_CHANGE_PASSWORD", true, inv, true, job.MessageInvitation, ""},
		{"FORCE_CHANGE_PASSWORD", false, inv, false, "", job.StatusDisabled},
		{"CONFIRMED", true, inv, false, "", job.StatusAlreadyConfirmed},
		{"RESET_REQUIRED", true, inv, false, "", job.StatusNotEligible},
		{"UNCONFIRMED", false, inv, false, "", job.StatusDisabled},
		{"FORCE_CHANGE_PASSWORD", true, userpool.Rule{}, false, "", job.StatusNotEligible},
		{"UNCONFIRMED", true, userpool.Rule{}, true, job.MessageConfirmation, ""},
	} {
		v := tt.rule.Judge(job.UserState{Status: tt.status, Enabled: tt.enabled})
		name := tt.status + map[bool]string{true: "/enabled", false: "/disabled"}[tt.enabled] +
			map[bool]string{true: "/--invitations"}[tt.rule.Invitations]
		require.Equal(t, tt.send, v.Send, name)
		require.Equal(t, tt.msg, v.Message, name)
		require.Equal(t, tt.row, v.Status, name)
	}
	require.Contains(t, userpool.Judge(job.UserState{Status: "FORCE_CHANGE_PASSWORD", Enabled: true}).Reason, "--invitations")
}

// The verifier hands the chosen message on with send, for a listed state and for
// AdminGetUser's answer alike.
func TestVerifierMessage(t *testing.T) {
	t.Parallel()
	api := &fakeUsers{users: pool}
	v, _ := newVerifier(t, api)
	v.Rule = userpool.Rule{Invitations: true}
	res, send := v.Verify(context.Background(), context.Background(), job.Job{Username: "adam"})
	require.True(t, send)
	require.Equal(t, job.MessageInvitation, res.Message)
	res, send = v.Verify(context.Background(), context.Background(), job.Job{Username: "alice"})
	require.True(t, send)
	require.Equal(t, job.MessageConfirmation, res.Message)
	res, send = v.Verify(context.Background(), context.Background(),
		job.Job{Username: "zed", State: &job.UserState{Status: "FORCE_CHANGE_PASSWORD", Enabled: true}})
	require.True(t, send)
	require.Equal(t, job.MessageInvitation, res.Message)
}

// A listing of the pool asks for the states the rule may send a message to.
func TestRuleListedStates(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"UNCONFIRMED"}, userpool.ListedStates())
	require.Equal(t, []string{"UNCONFIRMED"}, userpool.Rule{}.ListedStates())
	require.Equal(t, []string{"UNCONFIRMED", "FORCE_CHANGE_PASSWORD"}, userpool.Rule{Invitations: true}.ListedStates())
}
