package pacing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// The one rule for "did the path fail, or did AWS answer": the SDK's transient errors and
// a call's own deadline are transient; an answer (no such table, a lost condition) is not.
func TestAWSTransient(t *testing.T) {
	t.Parallel()

	ownDeadline := fmt.Errorf("operation error DynamoDB: PutItem: %w", context.DeadlineExceeded)
	require.True(t, pacing.AWSTransient(ownDeadline))
	require.True(t, pacing.AWSTransient(&types.ProvisionedThroughputExceededException{}))
	require.False(t, pacing.AWSTransient(&types.ResourceNotFoundException{}))
	require.False(t, pacing.AWSTransient(&types.ConditionalCheckFailedException{}))
	require.False(t, pacing.AWSTransient(errors.New("anything else")))
}
