package awserr_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
)

// The one rule for "did the path fail, or did AWS answer": the SDK's transient errors,
// AWS's own faults and a call's own deadline are transient; an answer (no such table, a
// lost condition, access denied) is not.
func TestTransient(t *testing.T) {
	t.Parallel()

	ownDeadline := fmt.Errorf("operation error DynamoDB: PutItem: %w", context.DeadlineExceeded)
	require.True(t, awserr.Transient(ownDeadline))
	require.True(t, awserr.Transient(&types.ProvisionedThroughputExceededException{}))
	require.True(t, awserr.Transient(&smithy.GenericAPIError{Code: "RequestThrottled"}))
	require.True(t, awserr.Transient(awserr.Entry("InternalError", "try later", false)), "AWS's fault")
	require.True(t, awserr.Transient(awserr.Entry("RequestThrottled", "slow down", true)), "a throttle is worth another attempt whoever's fault")
	require.False(t, awserr.Transient(awserr.Entry("AccessDenied", "no", true)))
	require.False(t, awserr.Transient(&smithy.GenericAPIError{Code: "AccessDeniedException", Fault: smithy.FaultClient}))
	require.False(t, awserr.Transient(&types.ResourceNotFoundException{}))
	require.False(t, awserr.Transient(&types.ConditionalCheckFailedException{}))
	require.False(t, awserr.Transient(context.Canceled))
	require.False(t, awserr.Transient(errors.New("anything else")))
	require.False(t, awserr.Transient(nil))
}

func TestCodeAndLabel(t *testing.T) {
	t.Parallel()

	denied := fmt.Errorf("wrapped: %w", &smithy.GenericAPIError{Code: "AccessDeniedException"})
	for _, tt := range []struct {
		err         error
		code, label string
	}{
		{nil, "", ""},
		{denied, "AccessDeniedException", "AccessDeniedException"},
		{fmt.Errorf("call: %w", context.DeadlineExceeded), "", "Timeout"},
		{context.Canceled, "", "Canceled"},
		{errors.New("connection reset"), "", "Error"},
		{awserr.Entry("ReceiptHandleIsInvalid", "gone", true), "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid"},
	} {
		require.Equal(t, tt.code, awserr.Code(tt.err), "%v", tt.err)
		require.Equal(t, tt.label, awserr.Label(tt.err), "%v", tt.err)
	}
}
