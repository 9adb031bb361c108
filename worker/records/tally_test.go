package records_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

func TestTally(t *testing.T) {
	t.Parallel()

	row := func(ref string, st job.Status) job.Result { return job.Result{SourceRef: ref, Status: st} }
	tl := records.NewTally()
	for _, r := range []job.Result{
		row("2", job.StatusSent),
		row("3", job.StatusUnknown),
		row("4", job.StatusFailed),
		row("5", job.StatusLimitExceeded),
		row("6", job.StatusDuplicate),
		row("3", job.StatusSent),   // --retry-unknown called it: the last row counts
		row("4", job.StatusFailed), // failed again: still one failed row
		row("5", job.StatusAlreadyConfirmed),
		row("2", job.StatusDuplicate), // a queue's redelivery after a sent row: it echoes the send
		row("6", job.StatusDuplicate),
		row("7", job.StatusUnknown),
		row("7", job.StatusDuplicate), // a redelivery after unknown (SIGKILL): the user stays unknown
		row("8", job.StatusDuplicate),
		row("8", job.StatusSent), // any real outcome replaces a duplicate
		row("2", job.StatusRecentlySent),
	} {
		tl.Add(r)
	}
	require.Equal(t, 7, tl.Rows)
	for st, n := range map[job.Status]int{job.StatusSent: 3, job.StatusFailed: 1, job.StatusAlreadyConfirmed: 1,
		job.StatusDuplicate: 1, job.StatusUnknown: 1, job.StatusLimitExceeded: 0} {
		require.Equal(t, n, tl.Counts[st], "%s", st)
	}
}

// The resume state tallies the report as the summary of the whole campaign shows it.
func TestLoadResumeTally(t *testing.T) {
	t.Parallel()
	p := writeReport(t,
		"a,sent,1,,,EMAIL,x,email,,2,,",
		"b,unknown,0,Unknown,,,,,,3,,",
		"c,failed,8,TooManyRequestsException,gave up,,,,,4,,",
		"b,sent,1,,,EMAIL,x,email,,3,,",
		"torn,se",
	)
	st, err := records.LoadResume(p, records.ResumeOptions{})
	require.NoError(t, err)
	require.Equal(t, 4, st.Rows)
	require.Equal(t, 3, st.Tally.Rows, "b's unknown row was replaced by its sent row")
	require.Equal(t, map[job.Status]int{job.StatusSent: 2, job.StatusUnknown: 0, job.StatusFailed: 1}, st.Tally.Counts)
}
