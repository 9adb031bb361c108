package reportset_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/reportset"
)

func TestWriteUsersCSV(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeReport(t, dir, "a.csv", []job.Result{
		row("zed", job.StatusFailed, 1),
		row(`o"brien, jr`, job.StatusLimitExceeded, 2), // quotes and commas survive the CSV
		row("amy", job.StatusFailed, 3),
		row("bo", job.StatusSent, 4),
		row("@SUM(1+1)", job.StatusFailed, 5), // a formula to a spreadsheet: written as text
		row("'=x", job.StatusFailed, 6),       // a real leading quote survives the rule
	}, "")
	b := writeReport(t, dir, "b.jsonl", []job.Result{
		row("AMY", job.StatusSent, 10),          // amy is done: not listed
		row("cy", "not_eligible", 11),           // an open status can be selected
		row("zed", job.StatusLimitExceeded, 12), // zed: listed once, in first-seen order
	}, "")
	set, err := reportset.Read(a, b)
	require.NoError(t, err)

	var out bytes.Buffer
	n, err := set.WriteUsersCSV(&out, []job.Status{job.StatusFailed, job.StatusLimitExceeded, "not_eligible"})
	require.NoError(t, err)
	require.Equal(t, 5, n)
	recs, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{{"username", "final_status"}, {"zed", "limit_exceeded"}, {`o"brien, jr`, "limit_exceeded"},
		{"'@SUM(1+1)", "failed"}, {"''=x", "failed"}, {"cy", "not_eligible"}}, recs)

	out.Reset()
	n, err = set.WriteUsersCSV(&out, []job.Status{"no_such_status"})
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, "username,final_status\n", out.String())
}
