package records

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Every status fits the tag's status bits, and reads back.
func TestLineTagHoldsEveryStatus(t *testing.T) {
	t.Parallel()
	require.Less(t, len(job.Statuses), tagStatusMask)
	for _, st := range job.Statuses {
		tag := statusTag(st) | tagRetry | tagWaiting | 7<<tagCallShift
		require.Equal(t, st, tagStatus(tag))
	}
}
