package records_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/records"
)

func writeReport(t *testing.T, rows ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "r.csv")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(records.Columns, ",")+"\n"+strings.Join(rows, "\n")+"\n"), 0o600))
	return p
}

func TestLoadResumeQueueModeKeepsRetriesRetryable(t *testing.T) {
	t.Parallel()
	p := writeReport(t,
		"sent1,sent,1,,,EMAIL,x,email,,m1,,",
		"thr,failed,8,TooManyRequestsException,gave up,,,,,m2,,",
		"lim,limit_exceeded,1,LimitExceededException,,,,,,m3,,",
		"conf,already_confirmed,1,,,,,,,m4,,",
		"gone,user_not_found,1,,,,,,,m5,,",
		"unk,unknown,0,Unknown,,,,,,m6,,",
	)
	q, err := records.LoadResume(p, records.ResumeOptions{Redelivers: true})
	require.NoError(t, err)
	for u, want := range map[string]bool{"sent1": true, "thr": false, "lim": false, "conf": true, "gone": true, "unk": true} {
		require.Equal(t, want, q.Final.Has(u), u)
	}
	csv, err := records.LoadResume(p, records.ResumeOptions{})
	require.NoError(t, err)
	for _, u := range []string{"sent1", "thr", "lim", "conf", "gone", "unk"} {
		require.True(t, csv.Final.Has(u), "a CSV campaign never calls a user with a row again: %s", u)
	}
	retry, err := records.LoadResume(p, records.ResumeOptions{RetryUnknown: true})
	require.NoError(t, err)
	require.False(t, retry.Final.Has("unk"))
	require.False(t, retry.Done.Has("m6"))
	require.Equal(t, 6, retry.Rows)
}

func TestLoadResumeUnknownFromLedger(t *testing.T) {
	t.Parallel()
	p := writeReport(t, "a,sent,1,,,,,,,2,,", "torn,se")
	require.NoError(t, os.WriteFile(records.LedgerPath(p), []byte(
		`{"event":"start","username":"a","source_ref":"2"}`+"\n"+
			`{"event":"start","username":"b","source_ref":"3"}`+"\n"+
			`{"event":"start","username":"c","source_ref":"4"}`+"\n"+
			`{"event":"abandon","username":"c","source_ref":"4"}`+"\n"+
			`{"event":"start","username":"d","source_ref":"5"}`+"\n"+`{"eve`), 0o600))
	st, err := records.LoadResume(p, records.ResumeOptions{})
	require.NoError(t, err)
	require.Equal(t, 1, st.Skipped, "the torn report line")
	var unknown []string
	for _, u := range st.Unknown {
		unknown = append(unknown, u.Username+"@"+u.SourceRef)
	}
	require.Equal(t, []string{"b@3", "d@5"}, unknown, "started without a row; abandoned c is not unknown")
}

func TestLoadResumeRefusesForeignHeader(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "r.csv")
	require.NoError(t, os.WriteFile(p, []byte("user,state\nx,y\n"), 0o600))
	_, err := records.LoadResume(p, records.ResumeOptions{})
	require.ErrorContains(t, err, "refusing to append")
}
