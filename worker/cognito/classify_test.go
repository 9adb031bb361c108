package cognito_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

const (
	msgAttemptLimit = "Attempt limit exceeded, please try after some time."
	msgDailyEmail   = "Exceeded daily email limit for the operation or the account. If a higher limit is required, please configure your user pool to use your own Amazon SES configuration for sending email."
)

// sdkWrap wraps err the way the SDK's deserializers and handler stack do.
func sdkWrap(err error, status int, requestID string) error {
	return &smithy.OperationError{
		ServiceID:     "Cognito Identity Provider",
		OperationName: "ResendConfirmationCode",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      err,
			},
			RequestID: requestID,
		},
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()

	type want struct {
		class    job.ErrorClass
		status   job.Status
		code     string
		throttle bool
		fault    bool
		fix      bool // Fix must be non-empty
	}
	retry := func(code string, throttle, fault bool) want {
		return want{class: job.ClassRetryable, status: job.StatusFailed, code: code, throttle: throttle, fault: fault}
	}
	perUser := func(st job.Status, code string) want {
		return want{class: job.ClassPerUser, status: st, code: code}
	}
	systemic := func(code string) want {
		return want{class: job.ClassSystemic, status: job.StatusFailed, code: code, fix: true}
	}
	m := aws.String

	tests := []struct {
		name string
		err  error
		want want
	}{
		{"nil is success", nil, want{class: job.ClassNone, status: job.StatusSent}},
		{"TooManyRequests", &types.TooManyRequestsException{Message: m("Rate exceeded")}, retry("TooManyRequestsException", true, false)},
		{"InternalError", &types.InternalErrorException{Message: m("oops")}, retry("InternalErrorException", false, true)},
		{"LimitExceeded attempt limit", &types.LimitExceededException{Message: m(msgAttemptLimit)}, perUser(job.StatusLimitExceeded, "LimitExceededException")},
		{"LimitExceeded without message", &types.LimitExceededException{}, perUser(job.StatusLimitExceeded, "LimitExceededException")},
		{"LimitExceeded daily email", &types.LimitExceededException{Message: m(msgDailyEmail)}, want{class: job.ClassSpent, status: job.StatusFailed, code: "LimitExceededException", fix: true}},
		{"InvalidParameter already confirmed", &types.InvalidParameterException{Message: m("User is already confirmed.")}, perUser(job.StatusAlreadyConfirmed, "InvalidParameterException")},
		{"InvalidParameter auto verification off", &types.InvalidParameterException{Message: m("Cannot resend codes. Auto verification not turned on.")}, systemic("InvalidParameterException")},
		{"InvalidParameter other", &types.InvalidParameterException{Message: m("1 validation error detected: Value at 'username' failed to satisfy constraint")}, perUser(job.StatusInvalidInput, "InvalidParameterException")},
		{"UserNotFound", &types.UserNotFoundException{Message: m("Username/client id combination not found.")}, perUser(job.StatusUserNotFound, "UserNotFoundException")},
		{"NotAuthorized user disabled", &types.NotAuthorizedException{Message: m("User is disabled.")}, perUser(job.StatusDisabled, "NotAuthorizedException")},
		{"NotAuthorized", &types.NotAuthorizedException{Message: m("Unable to verify secret hash for client x")}, systemic("NotAuthorizedException")},
		{"ResourceNotFound", &types.ResourceNotFoundException{Message: m("User pool client x does not exist.")}, systemic("ResourceNotFoundException")},
		{"Forbidden", &types.ForbiddenException{Message: m("blocked by WAF")}, systemic("ForbiddenException")},
		{"InvalidEmailRoleAccessPolicy", &types.InvalidEmailRoleAccessPolicyException{Message: m("x")}, systemic("InvalidEmailRoleAccessPolicyException")},
		{"InvalidSmsRoleAccessPolicy", &types.InvalidSmsRoleAccessPolicyException{Message: m("x")}, systemic("InvalidSmsRoleAccessPolicyException")},
		{"InvalidSmsRoleTrustRelationship", &types.InvalidSmsRoleTrustRelationshipException{Message: m("x")}, systemic("InvalidSmsRoleTrustRelationshipException")},
		{"CodeDeliveryFailure", &types.CodeDeliveryFailureException{Message: m("x")}, perUser(job.StatusFailed, "CodeDeliveryFailureException")},
		{"UnexpectedLambda", &types.UnexpectedLambdaException{Message: m("x")}, perUser(job.StatusFailed, "UnexpectedLambdaException")},
		{"InvalidLambdaResponse", &types.InvalidLambdaResponseException{Message: m("x")}, perUser(job.StatusFailed, "InvalidLambdaResponseException")},
		{"UserLambdaValidation", &types.UserLambdaValidationException{Message: m("PreSignUp failed")}, perUser(job.StatusFailed, "UserLambdaValidationException")},

		{"fmt wrapped UserNotFound", fmt.Errorf("resend: %w", &types.UserNotFoundException{Message: m("x")}), perUser(job.StatusUserNotFound, "UserNotFoundException")},
		{"SDK wrapped TooManyRequests", sdkWrap(&types.TooManyRequestsException{Message: m("Rate exceeded")}, 400, "r1"), retry("TooManyRequestsException", true, false)},
		{"SDK wrapped daily email limit", sdkWrap(&types.LimitExceededException{Message: m(msgDailyEmail)}, 400, "r1"), want{class: job.ClassSpent, status: job.StatusFailed, code: "LimitExceededException", fix: true}},
		{"SDK wrapped attempt limit", sdkWrap(&types.LimitExceededException{Message: m(msgAttemptLimit)}, 400, "r1"), perUser(job.StatusLimitExceeded, "LimitExceededException")},
		{"SDK wrapped already confirmed", sdkWrap(&types.InvalidParameterException{Message: m("User is already confirmed.")}, 400, "r1"), perUser(job.StatusAlreadyConfirmed, "InvalidParameterException")},
		{"SDK wrapped NotAuthorized", sdkWrap(&types.NotAuthorizedException{Message: m("x")}, 400, "r1"), systemic("NotAuthorizedException")},
		{"ErrorCodeOverride is used", &types.CodeDeliveryFailureException{ErrorCodeOverride: m("CustomCode")}, perUser(job.StatusFailed, "CustomCode")},

		{"HTTP 503 without API code", sdkWrap(errors.New("service unavailable"), 503, "r2"), retry("HTTP5xx", false, true)},
		{"HTTP 503 with generic API code", sdkWrap(&smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "try later"}, 503, "r2"), retry("ServiceUnavailable", false, true)},
		{"HTTP 500 bare ResponseError", &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}}, Err: errors.New("x")}}, retry("HTTP5xx", false, true)},
		{"RequestSendError", &smithyhttp.RequestSendError{Err: errors.New("dial tcp: lookup cognito-idp: no such host")}, retry("ConnectionError", false, true)},
		{"SDK wrapped RequestSendError", &smithy.OperationError{Err: &smithyhttp.RequestSendError{Err: errors.New("x")}}, retry("ConnectionError", false, true)},
		{"DeadlineExceeded", context.DeadlineExceeded, retry("Timeout", false, true)},
		{"SDK wrapped DeadlineExceeded", &smithy.OperationError{Err: &smithyhttp.RequestSendError{Err: fmt.Errorf("Post: %w", context.DeadlineExceeded)}}, retry("Timeout", false, true)},
		{"read timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, retry("Timeout", false, true)},
		{"dial timeout: no request written", &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}, retry("ConnectionError", false, true)},
		{"Canceled", context.Canceled, want{class: job.ClassCanceled, status: job.StatusFailed, code: "Canceled"}},
		{"SDK wrapped Canceled", &smithy.OperationError{Err: &smithyhttp.RequestSendError{Err: fmt.Errorf("Post: %w", context.Canceled)}}, want{class: job.ClassCanceled, status: job.StatusFailed, code: "Canceled"}},
		{"net.OpError ECONNRESET", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, retry("ConnectionError", false, true)},
		{"bare ECONNREFUSED", fmt.Errorf("x: %w", syscall.ECONNREFUSED), retry("ConnectionError", false, true)},
		{"unexpected EOF", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), retry("ConnectionError", false, true)},
		{"unknown generic API error", &smithy.GenericAPIError{Code: "SomethingNewException", Message: "new"}, perUser(job.StatusFailed, "SomethingNewException")},
		{"SDK wrapped unknown API error 400", sdkWrap(&smithy.GenericAPIError{Code: "SomethingNewException"}, 400, "r3"), perUser(job.StatusFailed, "SomethingNewException")},
		{"plain error", errors.New("boom"), perUser(job.StatusFailed, "Error")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := cognito.Classify(tt.err)
			require.Equal(t, tt.want.class, got.Class, "class %s", got.Class)
			require.Equal(t, tt.want.status, got.Status)
			require.Equal(t, tt.want.code, got.Code)
			require.Equal(t, tt.want.throttle, got.Throttle, "throttle")
			require.Equal(t, tt.want.fault, got.Fault, "fault")
			if tt.want.fix {
				require.NotEmpty(t, got.Fix)
			} else {
				require.Empty(t, got.Fix)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassifyFixTexts(t *testing.T) {
	t.Parallel()

	// Each systemic cause names its own remedy.
	daily := cognito.Classify(&types.LimitExceededException{Message: aws.String(msgDailyEmail)})
	require.Contains(t, daily.Fix, "SES")
	notAuth := cognito.Classify(&types.NotAuthorizedException{})
	require.Contains(t, notAuth.Fix, "COGNITO_CLIENT_SECRET")
	resNF := cognito.Classify(&types.ResourceNotFoundException{})
	require.Contains(t, resNF.Fix, "--client-id")
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()

	t.Run("nil", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "", cognito.ErrorMessage(nil))
	})
	t.Run("API message through SDK wrapping", func(t *testing.T) {
		t.Parallel()
		err := sdkWrap(&types.UserNotFoundException{Message: aws.String("Username/client id combination not found.")}, 400, "r")
		require.Equal(t, "Username/client id combination not found.", cognito.ErrorMessage(err))
	})
	t.Run("API error without message falls back to Error()", func(t *testing.T) {
		t.Parallel()
		err := &types.UserNotFoundException{}
		require.Equal(t, err.Error(), cognito.ErrorMessage(err))
		require.Equal(t, "UserNotFoundException: ", cognito.ErrorMessage(err))
	})
	t.Run("plain error", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "read: connection reset", cognito.ErrorMessage(errors.New("read: connection reset")))
	})
}

func TestRequestID(t *testing.T) {
	t.Parallel()

	require.Equal(t, "req-123", cognito.RequestID(sdkWrap(&types.TooManyRequestsException{}, 400, "req-123")))
	require.Equal(t, "", cognito.RequestID(errors.New("x")))
	require.Equal(t, "", cognito.RequestID(nil))
}

func TestErrorClassString(t *testing.T) {
	t.Parallel()

	for c, s := range map[job.ErrorClass]string{
		job.ClassNone: "none", job.ClassRetryable: "retryable", job.ClassPerUser: "per_user",
		job.ClassSystemic: "systemic", job.ClassCanceled: "canceled", job.ErrorClass(99): "unknown",
	} {
		require.Equal(t, s, c.String())
	}
}

// Which faults can't have reached Cognito: a connection never made. Everything after the
// request may have been written stays ambiguous.
func TestClassifyUnsent(t *testing.T) {
	t.Parallel()

	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1},
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	nxdomain := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host",
		Name: "cognito-idp.eu-west-9.amazonaws.com", IsNotFound: true}}
	sent := func(err error) error { // as the SDK returns a transport error
		return &smithy.OperationError{ServiceID: "Cognito Identity Provider", OperationName: "ResendConfirmationCode",
			Err: &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "https://cognito-idp.eu-west-9.amazonaws.com/", Err: err}}}
	}
	for _, tt := range []struct {
		name               string
		err                error
		unsent, noSuchHost bool
		endpoint, cause    string
	}{
		{"connection refused", sent(refused), true, false, "cognito-idp.eu-west-9.amazonaws.com",
			"dial tcp 127.0.0.1:1: connect: connection refused"},
		{"no such host", sent(nxdomain), true, true, "cognito-idp.eu-west-9.amazonaws.com",
			"dial tcp: lookup cognito-idp.eu-west-9.amazonaws.com: no such host"},
		{"DNS server failure", sent(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "server misbehaving",
			Name: "x", IsTemporary: true}}), true, false, "cognito-idp.eu-west-9.amazonaws.com",
			"dial tcp: lookup x: server misbehaving"},
		{"bare DNS error", &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, true, true, "", "lookup x: no such host"},
		{"proxy unreachable", sent(&net.OpError{Op: "proxyconnect", Net: "tcp", Err: refused}), true, false,
			"cognito-idp.eu-west-9.amazonaws.com", "proxyconnect tcp: dial tcp 127.0.0.1:1: connect: connection refused"},
		{"dial timeout", sent(&net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}), true, false,
			"cognito-idp.eu-west-9.amazonaws.com", "dial tcp: i/o timeout"},
		{"bare ECONNREFUSED", fmt.Errorf("x: %w", syscall.ECONNREFUSED), true, false, "", "x: connection refused"},
		{"reset after the request was written", sent(&net.OpError{Op: "read", Net: "tcp",
			Err: os.NewSyscallError("read", syscall.ECONNRESET)}), false, false, "cognito-idp.eu-west-9.amazonaws.com",
			"read tcp: read: connection reset by peer"},
		{"broken pipe while writing", sent(&net.OpError{Op: "write", Net: "tcp",
			Err: os.NewSyscallError("write", syscall.EPIPE)}), false, false, "cognito-idp.eu-west-9.amazonaws.com",
			"write tcp: write: broken pipe"},
		{"EOF", sent(io.EOF), false, false, "cognito-idp.eu-west-9.amazonaws.com", "EOF"},
		{"call timeout", &smithy.OperationError{Err: &smithy.CanceledError{Err: context.DeadlineExceeded}}, false, false, "",
			"no answer within --call-timeout (context deadline exceeded)"},
		{"HTTP 503", sdkWrap(errors.New("service unavailable"), 503, "r"), false, false, "", "HTTP 503"},
		{"InternalErrorException", sdkWrap(&types.InternalErrorException{Message: aws.String("boom")}, 500, "r"), false, false, "",
			"HTTP 500 InternalErrorException: boom"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := cognito.Classify(tt.err)
			require.True(t, got.Fault)
			require.Equal(t, job.ClassRetryable, got.Class)
			require.Equal(t, tt.unsent, got.Unsent, "unsent")
			require.Equal(t, tt.noSuchHost, got.NoSuchHost, "no such host")
			require.Equal(t, tt.endpoint, got.Endpoint)
			require.Equal(t, tt.cause, got.Cause)
			obs := got.Observation()
			require.Equal(t, pacing.Observation{Class: got.Class, Fault: true, NoSuchHost: tt.noSuchHost,
				Endpoint: tt.endpoint, Cause: tt.cause}, obs)
		})
	}
	for _, answer := range []error{nil, &types.UserNotFoundException{}, &types.TooManyRequestsException{}} {
		got := cognito.Classify(answer)
		require.False(t, got.Unsent || got.NoSuchHost || got.Fault)
		require.Empty(t, got.Endpoint+got.Cause)
	}
}
