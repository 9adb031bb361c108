package cognito

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// Outcome is what the classifier makes of one ResendConfirmationCode answer.
type Outcome struct {
	Class  job.ErrorClass
	Status job.Status // the report status if this answer is the last
	Code   string     // Cognito error code, or a local one (e.g. "Timeout")
	// Throttle marks TooManyRequestsException, which also slows the shared limiter.
	Throttle bool
	// Fault marks a server or network fault (5xx, timeout, connection): feeds the breaker.
	Fault bool
	// Unsent marks a fault before the request left this machine: the connection was
	// never made (refused, no route, DNS failure, a proxy that can't be reached), so
	// Cognito cannot have seen it. Such an attempt is not ambiguous and is retried
	// without spending one of --max-attempts. Timeouts, resets after the request was
	// written and 5xx may have reached Cognito: they are not Unsent.
	Unsent bool
	// NoSuchHost marks a DNS answer that the endpoint's host name does not exist.
	NoSuchHost bool
	// Endpoint (host[:port]) and Cause (the transport's own error text, e.g. "dial tcp
	// 127.0.0.1:1: connect: connection refused") describe a fault for the operator.
	Endpoint, Cause string
	// Fix is a one-line remedy printed when a systemic error stops the campaign.
	Fix string
}

// Observation is what the breaker needs of an outcome.
func (o Outcome) Observation() pacing.Observation {
	return pacing.Observation{Class: o.Class, Fault: o.Fault, NoSuchHost: o.NoSuchHost, Endpoint: o.Endpoint, Cause: o.Cause}
}

// Message fragments for the two cases where Cognito gives one exception type two meanings.
const (
	msgAlreadyConfirmed = "already confirmed"
	msgDailyEmailLimit  = "daily email limit"
	msgAutoVerifyOff    = "auto verification not turned on"
	msgUserDisabled     = "user is disabled"
)

// Classify maps a ResendConfirmationCode error (nil = success) to an outcome.
// Typed exceptions are matched with errors.As; message text is consulted only where one
// type has two meanings (LimitExceeded, InvalidParameter, NotAuthorized).
func Classify(err error) Outcome {
	if err == nil {
		return Outcome{Class: job.ClassNone, Status: job.StatusSent}
	}

	var (
		tooMany     *types.TooManyRequestsException
		limit       *types.LimitExceededException
		invalid     *types.InvalidParameterException
		notFound    *types.UserNotFoundException
		internal    *types.InternalErrorException
		notAuth     *types.NotAuthorizedException
		resNotFound *types.ResourceNotFoundException
		forbidden   *types.ForbiddenException
		emailRole   *types.InvalidEmailRoleAccessPolicyException
		smsRole     *types.InvalidSmsRoleAccessPolicyException
		smsTrust    *types.InvalidSmsRoleTrustRelationshipException
		delivery    *types.CodeDeliveryFailureException
		lambdaUnexp *types.UnexpectedLambdaException
		lambdaResp  *types.InvalidLambdaResponseException
		lambdaValid *types.UserLambdaValidationException
	)
	switch {
	case errors.As(err, &tooMany):
		return Outcome{Class: job.ClassRetryable, Status: job.StatusFailed, Code: tooMany.ErrorCode(), Throttle: true}
	case errors.As(err, &internal):
		return withFault(Outcome{Class: job.ClassRetryable, Status: job.StatusFailed, Code: internal.ErrorCode(), Fault: true}, err)
	case errors.As(err, &limit):
		if strings.Contains(strings.ToLower(limit.ErrorMessage()), msgDailyEmailLimit) {
			// Not the user's fault and not a failure: the window's sends are spent (exit 4, or
			// a queue worker's pause until the next window).
			return Outcome{Class: job.ClassSpent, Status: job.StatusFailed, Code: limit.ErrorCode(),
				Fix: "the account's daily email quota is spent: --resume in the next window (--budget-reset), or configure Amazon SES (DEVELOPER email sending) for the user pool"}
		}
		return Outcome{Class: job.ClassPerUser, Status: job.StatusLimitExceeded, Code: limit.ErrorCode()}
	case errors.As(err, &invalid):
		msg := strings.ToLower(invalid.ErrorMessage())
		switch {
		case strings.Contains(msg, msgAlreadyConfirmed):
			return Outcome{Class: job.ClassPerUser, Status: job.StatusAlreadyConfirmed, Code: invalid.ErrorCode()}
		case strings.Contains(msg, msgAutoVerifyOff):
			return Outcome{Class: job.ClassSystemic, Status: job.StatusFailed, Code: invalid.ErrorCode(),
				Fix: "the user pool does not auto-verify email or phone; enable AutoVerifiedAttributes, then --resume"}
		}
		return Outcome{Class: job.ClassPerUser, Status: job.StatusInvalidInput, Code: invalid.ErrorCode()}
	case errors.As(err, &notFound):
		return Outcome{Class: job.ClassPerUser, Status: job.StatusUserNotFound, Code: notFound.ErrorCode()}
	case errors.As(err, &notAuth) && strings.Contains(strings.ToLower(notAuth.ErrorMessage()), msgUserDisabled):
		// NotAuthorizedException has two meanings too: one disabled user is not a reason
		// to stop the campaign, and not a failure either — what Cognito says of the user,
		// final (calling again can only get the same answer until it is re-enabled).
		return Outcome{Class: job.ClassPerUser, Status: job.StatusDisabled, Code: notAuth.ErrorCode()}
	case errors.As(err, &notAuth):
		return Outcome{Class: job.ClassSystemic, Status: job.StatusFailed, Code: notAuth.ErrorCode(),
			Fix: "the app client rejected the request (missing or wrong client secret?); set COGNITO_CLIENT_SECRET or --client-secret-file to the app client's secret"}
	case errors.As(err, &resNotFound):
		return Outcome{Class: job.ClassSystemic, Status: job.StatusFailed, Code: resNotFound.ErrorCode(),
			Fix: "Cognito does not know this app client; check --client-id and --region"}
	case errors.As(err, &forbidden):
		return Outcome{Class: job.ClassSystemic, Status: job.StatusFailed, Code: forbidden.ErrorCode(),
			Fix: "a WAF web ACL on the user pool blocked the request; allow this client's address or pause the campaign"}
	case errors.As(err, &emailRole), errors.As(err, &smsRole), errors.As(err, &smsTrust):
		return Outcome{Class: job.ClassSystemic, Status: job.StatusFailed, Code: awserr.Code(err),
			Fix: "the user pool's email/SMS role is misconfigured; fix the pool's messaging role, then --resume"}
	case errors.As(err, &delivery), errors.As(err, &lambdaUnexp), errors.As(err, &lambdaResp),
		errors.As(err, &lambdaValid):
		return Outcome{Class: job.ClassPerUser, Status: job.StatusFailed, Code: awserr.Code(err)}
	}

	// Not a modelled exception: transport-level faults and the run's own cancellation.
	if errors.Is(err, context.Canceled) {
		return Outcome{Class: job.ClassCanceled, Status: job.StatusFailed, Code: "Canceled"}
	}
	// A failed dial first: it may also be a timeout (dial tcp: i/o timeout), but no
	// request was written.
	if unsent, noSuchHost := dialFailed(err); unsent {
		return withFault(Outcome{Class: job.ClassRetryable, Status: job.StatusFailed, Code: "ConnectionError",
			Fault: true, Unsent: true, NoSuchHost: noSuchHost}, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return withFault(Outcome{Class: job.ClassRetryable, Status: job.StatusFailed, Code: "Timeout", Fault: true}, err)
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
		return withFault(Outcome{Class: job.ClassRetryable, Status: job.StatusFailed, Code: cmp.Or(awserr.Code(err), "HTTP5xx"), Fault: true}, err)
	}
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) || isConnError(err) {
		return withFault(Outcome{Class: job.ClassRetryable, Status: job.StatusFailed, Code: "ConnectionError", Fault: true}, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return Outcome{Class: job.ClassPerUser, Status: job.StatusFailed, Code: apiErr.ErrorCode()}
	}
	return Outcome{Class: job.ClassPerUser, Status: job.StatusFailed, Code: "Error"}
}

// IsCredentialsError reports whether a signed call (ListUsers, AdminGetUser,
// DescribeUserPool) failed for want of credentials or of an IAM permission: the SDK found
// none, or AWS refused the ones it had. The resend call is unsigned and never fails so.
func IsCredentialsError(err error) bool {
	if err == nil {
		return false
	}
	switch awserr.Code(err) {
	case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
		"ExpiredTokenException", "MissingAuthenticationTokenException":
		return true
	}
	// The SDK fails before sending when it finds no credentials at all.
	msg := err.Error()
	return strings.Contains(msg, "failed to retrieve credentials") ||
		strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "anonymous credentials")
}

// ErrorMessage is the text of err for the report: Cognito's own message when there is one.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorMessage() != "" {
		return apiErr.ErrorMessage()
	}
	return err.Error()
}

// RequestID extracts Cognito's request id from an error, if the answer carried one.
func RequestID(err error) string {
	var withID interface{ ServiceRequestID() string }
	if errors.As(err, &withID) {
		return withID.ServiceRequestID()
	}
	return ""
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dialFailed reports whether err says the connection was never made, so no request was
// written: a *net.OpError whose Op is "dial" anywhere in the chain (also under a proxy's
// "proxyconnect"), a *net.DNSError, or ECONNREFUSED (only connect returns it).
// net/http retries a POST on a new connection only when nothing was written on the
// first, so a dial error is the whole story. noSuchHost: DNS said the name does not
// exist (NXDOMAIN).
func dialFailed(err error) (unsent, noSuchHost bool) {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true, dnsErr.IsNotFound
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true, false
	}
	var opErr *net.OpError
	for e := err; errors.As(e, &opErr); e = opErr.Err {
		if opErr.Op == "dial" {
			return true, false
		}
	}
	return false, false
}

func isConnError(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// withFault fills a fault's Endpoint and Cause from err: the URL of the request the
// transport failed (*url.Error) or of the answer (a 5xx), and the transport's own error
// text rather than the SDK's wrapping of it.
func withFault(o Outcome, err error) Outcome {
	var urlErr *url.Error
	var respErr *smithyhttp.ResponseError
	switch {
	case errors.As(err, &urlErr):
		if u, perr := url.Parse(urlErr.URL); perr == nil {
			o.Endpoint = u.Host
		}
		o.Cause = urlErr.Err.Error()
	case errors.As(err, &respErr):
		if r := respErr.Response; r != nil && r.Response != nil && r.Request != nil && r.Request.URL != nil {
			o.Endpoint = r.Request.URL.Host
		}
		o.Cause = fmt.Sprintf("HTTP %d", respErr.HTTPStatusCode())
		if code := awserr.Code(err); code != "" && code != "UnknownError" { // the SDK's name for a bodyless answer
			o.Cause += " " + code + ": " + ErrorMessage(err)
		}
	case errors.Is(err, context.DeadlineExceeded):
		o.Cause = "no answer within --call-timeout (" + context.DeadlineExceeded.Error() + ")"
	default:
		o.Cause = err.Error()
	}
	return o
}
