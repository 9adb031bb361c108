package reportset_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/reportset"
)

// Two replicas' reports and a resume, CSV and JSONL mixed: one user per username,
// the later row winning, torn and foreign lines counted and named.
func TestSummaryAcrossFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeReport(t, dir, "a.csv", []job.Result{
		row("alice", job.StatusFailed, 10),        // superseded by b's sent at 20
		row("bob", job.StatusSent, 11),            //
		row("carol", job.StatusLimitExceeded, 12), // superseded by the resume's sent
		row("dave", job.StatusUnknown, 13),        //
	}, "erin,se") // torn by kill -9: no newline
	b := writeReport(t, dir, "b.jsonl", []job.Result{
		row("ALICE", job.StatusSent, 20),             // the same user as alice (case-insensitive)
		row("frank", job.StatusAlreadyConfirmed, 21), //
		row("bob", job.StatusDuplicate, 30),          // a duplicate never supersedes bob's sent
		row("grace", job.StatusFailed, 22),           //
	}, `{"username":"heidi","stat`+"\n") // torn, then ended by a resume's append
	resume := writeReport(t, dir, "a-resume.csv", []job.Result{
		row("carol", job.StatusSent, 40),
		row("grace", job.StatusFailed, 5), // earlier finished_at: b's row of grace stays
	}, "")
	foreign := filepath.Join(dir, "users.csv")
	require.NoError(t, os.WriteFile(foreign, []byte("username\nalice\nbob\n"), 0o600))

	set, err := reportset.Read(a, b, resume, foreign, a) // a twice: read once
	require.NoError(t, err)
	sum := set.Summary()

	require.Equal(t, 10, sum.Rows)
	require.Equal(t, 6, sum.Users) // alice bob carol dave frank grace
	require.Equal(t, 4, sum.SupersededRows)
	want := map[job.Status]int{}
	for _, st := range job.Statuses {
		want[st] = 0 // every status this version writes is a key
	}
	want["sent"], want["already_confirmed"], want["failed"], want["unknown"] = 3, 1, 1, 1
	require.Equal(t, want, sum.Statuses)
	require.Equal(t, (8+1+1+1)+(1+1+1+8)+(1+8), sum.Attempts, "every row's attempts, superseded ones included")
	require.Equal(t, map[string]int{"TooManyRequestsException": 1}, sum.ErrorCodes)
	require.Equal(t, at(4).Format(reportset.TimeLayout), sum.FirstStartedAt)
	require.Equal(t, at(40).Format(reportset.TimeLayout), sum.LastFinishedAt)
	require.Equal(t, 36.0, sum.SpanSeconds)
	require.Equal(t, 0.083, sum.SendsPerSecond) // 3 sent / 36 s

	require.Equal(t, 1+1+3, sum.MalformedLines) // a's torn line, b's torn line, users.csv's 3 lines
	require.Len(t, sum.Files, 4)
	require.Equal(t, reportset.File{Path: foreign, Format: "csv", Malformed: 3, Foreign: true}, sum.Files[3])
	var named []string
	for _, m := range sum.Malformed {
		named = append(named, filepath.Base(m.File)+":"+strconv.Itoa(m.Line))
	}
	require.Equal(t, []string{"a.csv:6", "b.jsonl:5", "users.csv:1"}, named)
	require.Contains(t, sum.Malformed[0].Reason, "torn last line")
	require.Contains(t, sum.Malformed[1].Reason, "not a report row")
	require.Contains(t, sum.Malformed[2].Reason, "not a cognito-resend report")

	// The JSON keys are the documented ones.
	b2, err := json.Marshal(sum)
	require.NoError(t, err)
	var keys map[string]any
	require.NoError(t, json.Unmarshal(b2, &keys))
	var got []string
	for k := range keys {
		got = append(got, k)
	}
	require.ElementsMatch(t, []string{"files", "rows", "users", "superseded_rows", "duplicate_rows", "username_case", "statuses", "invitations", "error_codes",
		"attempts", "first_started_at", "last_finished_at", "span_seconds", "sends_per_second",
		"attempts_per_second", "malformed_lines", "malformed"}, got)
}

// With --invitations, the summary counts the invitations apart: by the final row's
// message column, so a user whose invitation failed and was then sent counts once, sent.
func TestSummaryCountsInvitationsApart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := func(r job.Result) job.Result { r.Message = job.MessageInvitation; return r }
	conf := func(r job.Result) job.Result { r.Message = job.MessageConfirmation; return r }
	a := writeReport(t, dir, "a.csv", []job.Result{
		conf(row("una", job.StatusSent, 10)),
		inv(row("adam", job.StatusFailed, 11)),
		inv(row("ada", job.StatusSent, 12)),
		row("con", job.StatusAlreadyConfirmed, 13),
	}, "")
	b := writeReport(t, dir, "b.jsonl", []job.Result{inv(row("adam", job.StatusSent, 20))}, "")
	set, err := reportset.Read(a, b)
	require.NoError(t, err)
	sum := set.Summary()
	require.Equal(t, 3, sum.Statuses[job.StatusSent])
	require.Equal(t, 2, sum.Invitations[job.StatusSent])
	require.Zero(t, sum.Invitations[job.StatusFailed], "adam's failed row was superseded")
	require.Equal(t, 2, sum.InvitationUsers())
	var out strings.Builder
	require.NoError(t, sum.WriteTable(&out))
	require.Contains(t, out.String(), "\ninvitations  2  (users whose final row is an invitation, AdminCreateUser RESEND; 2 sent)")
	require.Regexp(t, `sent\s+3\s+75\.0%\s+2\s+1\n`, out.String())

	// A campaign without invitations prints the table as before.
	old := writeReport(t, dir, "old.csv", []job.Result{row("una", job.StatusSent, 10)}, "")
	set, err = reportset.Read(old)
	require.NoError(t, err)
	out.Reset()
	require.NoError(t, set.Summary().WriteTable(&out))
	require.NotContains(t, out.String(), "INVITATIONS")
}
