package sqssource

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// errCode is the metrics label and log code of an SQS call's error ("" for nil).
func errCode(err error) string {
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

// retryable reports whether an SQS call that failed with err is worth another attempt:
// the SDK's own classification (throttles, 5xx, timeouts, connection errors), used as a
// predicate only. The retrying is pacing.Retry's: the client has aws.NopRetryer.
func retryable(err error) bool {
	return awsretry.IsErrorRetryables(awsretry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
