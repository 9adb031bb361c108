package awserr

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Code is the AWS error code err carries (a smithy.APIError: "AccessDeniedException",
// "ThrottlingException", …), or "" when AWS gave none (nil, a transport failure, a
// deadline).
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Label is the metrics label and log code of a call's error: "" for nil, else its Code,
// or "Timeout", "Canceled" or "Error" when AWS gave none.
func Label(err error) string {
	switch {
	case err == nil:
		return ""
	case Code(err) != "":
		return Code(err)
	case errors.Is(err, context.DeadlineExceeded):
		return "Timeout"
	case errors.Is(err, context.Canceled):
		return "Canceled"
	}
	return "Error"
}

// Transient reports whether another attempt of the call that failed with err may fare
// better: the SDK's own classification (throttles, 5xx, timeouts, connection errors;
// used as a predicate only, the retrying is pacing.Retry's), an error AWS marks as its
// own fault (a batch entry's SenderFault=false, Entry), or the call's own per-attempt
// deadline (context.DeadlineExceeded: the path failed, nothing answered). The caller
// checks its own context first: a deadline of the whole run is not a reason to retry.
// An answer (access denied, no such table, a lost condition) is not transient.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if awsretry.IsErrorRetryables(awsretry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultServer {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// Entry is a failed entry of a batch call (SQS's BatchResultErrorEntry) as an error, so
// Code and Transient judge it as they judge a call: senderFault false is AWS's fault.
func Entry(code, msg string, senderFault bool) error {
	fault := smithy.FaultServer
	if senderFault {
		fault = smithy.FaultClient
	}
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: fault}
}
