package records_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/records"
)

// Each line with a row (or an intent) is bound to its username; other lines are new.
func TestResumeMatchesLinesByUsername(t *testing.T) {
	t.Parallel()
	p := writeReport(t, "alice,sent,1,,,,,,,2,,", "Bob,failed,3,Timeout,,,,,,3,,", "bob,duplicate,0,,,,,,,4,,")
	require.NoError(t, os.WriteFile(records.LedgerPath(p), []byte(
		`{"event":"start","username":"alice","source_ref":"2"}`+"\n"+
			`{"event":"start","username":"Bob","source_ref":"3"}`+"\n"+
			`{"event":"start","username":"cat","source_ref":"5"}`+"\n"), 0o600))
	st, err := records.LoadResume(p, records.ResumeOptions{})
	require.NoError(t, err)
	for _, c := range []struct {
		ref, user string
		want      bool
	}{
		{"2", "alice", true}, {"2", "bob", false}, {"3", "Bob", true}, {"3", "bob", false},
		{"4", "bob", true}, {"5", "cat", true}, {"5", "dan", false}, {"6", "anyone", true},
	} {
		require.Equal(t, c.want, st.Matches(c.ref, c.user), "line %s %s", c.ref, c.user)
	}
	require.Equal(t, "Bob", st.RowUsername("3"))
	require.Equal(t, "cat", st.RowUsername("5"), "an intent without a row")
}

func TestInputRecord(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csv := filepath.Join(dir, "u.csv")
	require.NoError(t, os.WriteFile(csv, []byte("username\na\nb\n"), 0o600))
	report := filepath.Join(dir, "r.csv")
	_, ok, err := records.ReadInput(report)
	require.NoError(t, err)
	require.False(t, ok)

	in, err := records.CSVInput(csv)
	require.NoError(t, err)
	require.NoError(t, records.WriteInput(report, in, clockStart, true))
	got, ok, err := records.ReadInput(report)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, int64(13), got.Size)
	require.Equal(t, csv, got.CSV)
	info, err := os.Stat(records.InputPath(report))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	require.Equal(t, "same", got.CSVRelation(csv))
	require.NoError(t, os.WriteFile(csv, []byte("username\na\nb\nc\n"), 0o600))
	require.Equal(t, "appended", got.CSVRelation(csv))
	require.NoError(t, os.WriteFile(csv, []byte("username\nb\na\nc\n"), 0o600))
	require.Equal(t, "changed", got.CSVRelation(csv))

	// A resume keeps the record it has; a new campaign replaces a stale one.
	pool := records.Input{Source: records.InputPool, UserPoolID: "us-east-1_b"}
	require.NoError(t, records.WriteInput(report, pool, clockStart, false))
	got, _, _ = records.ReadInput(report)
	require.Equal(t, records.InputCSV, got.Source)
	same, _ := got.Same(records.Input{Source: records.InputCSV, CSV: "/elsewhere.csv"})
	require.True(t, same, "any CSV: its lines are checked one by one")
	require.NoError(t, records.WriteInput(report, pool, clockStart, true))
	got, _, _ = records.ReadInput(report)
	same, why := got.Same(records.Input{Source: records.InputPool, UserPoolID: "us-east-1_c"})
	require.False(t, same)
	require.Equal(t, "the report was made from user pool us-east-1_b, not us-east-1_c", why)

	require.NoError(t, os.WriteFile(records.InputPath(report), []byte("junk"), 0o600))
	_, _, err = records.ReadInput(report)
	require.ErrorContains(t, err, "not a record of a report's input")
}
