package pacing

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// AWSRetryable reports whether an AWS call (SQS, DynamoDB) that failed with err is worth
// another attempt: the SDK's own classification (throttles, 5xx, timeouts, connection
// errors), used as a predicate only. The retrying is Retry's: the clients have
// aws.NopRetryer. ResendConfirmationCode has its own classifier (cognito.Classify).
func AWSRetryable(err error) bool {
	return awsretry.IsErrorRetryables(awsretry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// AWSTransient is AWSRetryable, or the call's own per-attempt deadline: the path failed,
// nothing answered. The ledger table's calls retry on it, and a start-up check that ends
// on it got no answer.
func AWSTransient(err error) bool {
	return AWSRetryable(err) || errors.Is(err, context.DeadlineExceeded)
}

// AWSErrorCode is the metrics label and log code of an AWS call's error ("" for nil).
func AWSErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "Timeout"
	}
	if errors.Is(err, context.Canceled) {
		return "Canceled"
	}
	return "Error"
}
