package reportset_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"github.com/cognito-resend/cognito-resend/worker/reportset"
)

// The operator trial: in a case-sensitive pool inv-03 (sent) and INV-03 (user_not_found)
// are two users; the reports merge rows as the run's dedupe compared them (the input
// record's username_case), and case-sensitively when a report does not say (an old
// report) or the reports disagree: that merge never hides a user.
func TestMergeFollowsTheCampaignsCaseRule(t *testing.T) {
	t.Parallel()
	rows := []job.Result{row("inv-03", job.StatusSent, 10), row("INV-03", job.StatusUserNotFound, 20)}
	for _, tc := range []struct {
		name        string
		cases       []string // each file's input record
		users, sent int
		rule        admit.Case
		why         string // the table's users line says where the rule comes from
		unrecorded  bool   // and the attempts line warns of a file without a record
	}{
		{"case-sensitive campaign", []string{records.CaseSensitiveName}, 2, 1, admit.CaseSensitive,
			"usernames compared case-sensitively, as the campaign's dedupe did", false},
		{"old report without the record", []string{""}, 2, 1, admit.CaseSensitive,
			"usernames compared case-sensitively: a file does not record the campaign's rule", true},
		{"case-insensitive campaign", []string{records.CaseInsensitiveName}, 1, 0, admit.CaseInsensitive,
			"usernames compared case-insensitively, as the campaign's dedupe did", false},
		{"reports that disagree", []string{records.CaseInsensitiveName, records.CaseSensitiveName}, 2, 1, admit.CaseSensitive,
			"usernames compared case-sensitively, as the campaign's dedupe did", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var paths []string
			for i, c := range tc.cases {
				paths = append(paths, writeReportCase(t, dir, "r"+string(rune('0'+i))+".csv", rows, "", c))
			}
			set, err := reportset.Read(paths...)
			require.NoError(t, err)
			require.Equal(t, tc.rule, set.UsernameCase())
			sum := set.Summary()
			require.Equal(t, tc.users, sum.Users)
			require.Equal(t, tc.sent, sum.Statuses[job.StatusSent], "inv-03's sent row is its own user's final row")
			var b strings.Builder
			require.NoError(t, sum.WriteTable(&b))
			require.Contains(t, b.String(), tc.why)
			require.Equal(t, tc.unrecorded, strings.Contains(b.String(), "a ledger export keeps one row a user"), b.String())
		})
	}
}

// A `duplicate` row (a line repeating a user, never called) is the run summary's
// duplicate=N: the summary counts it apart, though the user's status is its other row's.
func TestSummaryCountsDuplicateRows(t *testing.T) {
	t.Parallel()
	rows := []job.Result{row("ann", job.StatusSent, 10), row("bob", job.StatusSent, 11), row("ANN", job.StatusDuplicate, 20)}
	path := writeReportCase(t, t.TempDir(), "r.csv", rows, "", records.CaseInsensitiveName)
	set, err := reportset.Read(path)
	require.NoError(t, err)
	sum := set.Summary()
	require.Equal(t, 2, sum.Users)
	require.Equal(t, 1, sum.DuplicateRows)
	require.Equal(t, 0, sum.Statuses[job.StatusDuplicate], "ann's final row is her sent one")
	var b strings.Builder
	require.NoError(t, sum.WriteTable(&b))
	require.Regexp(t, `(?m)^duplicate\s+1\s+\(rows of lines repeating a user already in the campaign, not called`, b.String())
	require.Regexp(t, `(?m)^duplicate\s+0\s+0\.0%  \(users whose final row is duplicate; the duplicate rows: above\)$`, b.String())
}
