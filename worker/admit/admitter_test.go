package admit_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

func TestAdmitter(t *testing.T) {
	t.Parallel()

	prior := admit.NewSet(admit.CaseInsensitive)
	prior.Add("done")
	a := admit.New(admit.CaseInsensitive, prior)

	_, send := a.Admit(job.Job{Username: "alice", SourceRef: "2"})
	require.True(t, send)
	row, send := a.Admit(job.Job{Username: "ALICE", SourceRef: "3"})
	require.False(t, send)
	require.Equal(t, job.Result{Username: "ALICE", Status: job.StatusDuplicate, ErrorMessage: admit.DuplicateMessage,
		SourceRef: "3", Class: job.ClassPerUser}, row)
	row, send = a.Admit(job.Job{Username: "Done", SourceRef: "4"})
	require.False(t, send, "a user an earlier run finished")
	require.Equal(t, job.StatusDuplicate, row.Status)
	row, send = a.Admit(job.Job{Username: "x y", SourceRef: "5", Invalid: "username has a disallowed character"})
	require.False(t, send)
	require.Equal(t, job.Result{Username: "x y", Status: job.StatusInvalidInput, ErrorCode: "InvalidInput",
		ErrorMessage: "username has a disallowed character", SourceRef: "5", Class: job.ClassPerUser}, row)

	a.Forget("alice") // given back: it comes again
	_, send = a.Admit(job.Job{Username: "Alice", SourceRef: "6"})
	require.True(t, send)
	require.Equal(t, 1, prior.Len(), "the prior set is never modified")

	exact := admit.New(admit.CaseSensitive, nil)
	_, first := exact.Admit(job.Job{Username: "bob"})
	_, second := exact.Admit(job.Job{Username: "Bob"})
	require.True(t, first && second, "a case-sensitive pool has two users")
}
