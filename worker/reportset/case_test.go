package reportset_test

import (
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
	}{
		{"case-sensitive campaign", []string{records.CaseSensitiveName}, 2, 1, admit.CaseSensitive},
		{"old report without the record", []string{""}, 2, 1, admit.CaseSensitive},
		{"case-insensitive campaign", []string{records.CaseInsensitiveName}, 1, 0, admit.CaseInsensitive},
		{"reports that disagree", []string{records.CaseInsensitiveName, records.CaseSensitiveName}, 2, 1, admit.CaseSensitive},
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
		})
	}
}
