package campaign

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/engine"
)

// How a run ended, as the command will show it (and map it to an exit code).
func TestStopped(t *testing.T) {
	t.Parallel()

	sys := &engine.SystemicError{Code: "NotAuthorizedException", Message: "no secret", Fix: "set it"}
	for _, tt := range []struct {
		err        error
		redelivers bool
		want       string // "" = not stopped
	}{
		{nil, false, ""},
		{nil, true, ""},
		{sys, false, "campaign stopped: Cognito answered NotAuthorizedException (no secret); fix: set it"},
		{sys, true, "campaign stopped: Cognito answered NotAuthorizedException (no secret); fix: set it"},
		{engine.ErrInterrupted, false, "campaign interrupted; rows not in the report were not attempted"},
		{engine.ErrInterrupted, true, ""}, // a queue worker's normal end
		{fmt.Errorf("report: %w", errors.New("disk full")), true, "campaign stopped: report: disk full"},
	} {
		got := stopped(tt.err, tt.redelivers)
		if tt.want == "" {
			require.NoError(t, got, "%v redelivers=%v", tt.err, tt.redelivers)
			continue
		}
		require.EqualError(t, got, tt.want)
		if tt.err != nil {
			require.ErrorIs(t, got, tt.err)
		}
	}
}
