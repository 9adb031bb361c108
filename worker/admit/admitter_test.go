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
	prior.Put("done", 41)
	a := admit.New(admit.CaseInsensitive, prior)

	_, send := a.Admit(job.Job{Username: "alice", SourceRef: "2"})
	require.True(t, send)
	row, send := a.Admit(job.Job{Username: "ALICE", SourceRef: "3"})
	require.False(t, send)
	require.Equal(t, job.Result{Username: "ALICE", Status: job.StatusDuplicate,
		ErrorMessage: "duplicate of source_ref 2: " + admit.DuplicateMessage,
		SourceRef:    "3", Class: job.ClassPerUser}, row)
	row, send = a.Admit(job.Job{Username: "Done", SourceRef: "4"})
	require.False(t, send, "a user an earlier run finished")
	require.Equal(t, job.StatusDuplicate, row.Status)
	require.Equal(t, "duplicate of source_ref 41: "+admit.DuplicateMessage, row.ErrorMessage,
		"names the row of the earlier run")
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

// A duplicate names its first row's source_ref when that is a line number; other refs
// (SQS message ids, pool usernames) are not kept.
func TestAdmitterDuplicateNamesFirstRef(t *testing.T) {
	t.Parallel()

	a := admit.New(admit.CaseInsensitive, admit.NewSet(admit.CaseInsensitive))
	for _, tt := range []struct{ user, ref, want string }{
		{"ann", "12", ""},
		{"ANN", "30", "duplicate of source_ref 12: " + admit.DuplicateMessage},
		{"ann", "31", "duplicate of source_ref 12: " + admit.DuplicateMessage},
		{"bob", "6b2f0c6e-1d1e-4c55-9f0b-5c3a3f9b8d11", ""},
		{"bob", "7d1c4d4f-0000-4c55-9f0b-5c3a3f9b8d11", admit.DuplicateMessage},
		{"012", "012", ""}, // a pool username that looks like a number
		{"012", "012", admit.DuplicateMessage},
		{"big", "4294967296", ""}, // past 32 bits
		{"BIG", "5", admit.DuplicateMessage},
	} {
		row, send := a.Admit(job.Job{Username: tt.user, SourceRef: tt.ref})
		require.Equal(t, tt.want == "", send, "%s@%s", tt.user, tt.ref)
		require.Equal(t, tt.want, row.ErrorMessage, "%s@%s", tt.user, tt.ref)
	}
	a.Forget("ann")
	_, send := a.Admit(job.Job{Username: "ann", SourceRef: "40"})
	require.True(t, send)
	row, _ := a.Admit(job.Job{Username: "ann", SourceRef: "41"})
	require.Equal(t, "duplicate of source_ref 40: "+admit.DuplicateMessage, row.ErrorMessage, "forgotten: the new first row")
}

func TestRefTag(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]uint32{"1": 1, "12": 12, "4294967295": 4294967295,
		"0": 0, "": 0, "012": 0, "+5": 0, "-5": 0, "4294967296": 0, "1e3": 0, "alice": 0, " 5": 0} {
		require.Equal(t, want, admit.RefTag(ref), "%q", ref)
	}
}

func TestRefTagAllocatesNothing(t *testing.T) {
	var tag uint32
	require.Zero(t, testing.AllocsPerRun(100, func() { tag = admit.RefTag("1234567") }))
	require.Equal(t, uint32(1234567), tag)
}
