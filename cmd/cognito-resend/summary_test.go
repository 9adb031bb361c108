package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/campaign"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// The summary tells the truth: this run's rows; the whole campaign's after --resume;
// after a stop, how many rows are left and how to continue; with failed rows, how to
// call them again (not a queue's: it retries by itself).
func TestPrintSummary(t *testing.T) {
	t.Parallel()

	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sum := &engine.Summary{Counts: map[job.Status]int{job.StatusSent: 8, job.StatusFailed: 1}, Rows: 9,
		Released: 8, Started: start, Finished: start.Add(3 * time.Second)}
	whole := records.NewTally()
	for i, st := range []job.Status{job.StatusSent, job.StatusSent, job.StatusUnknown} {
		whole.Add(job.Result{SourceRef: string(rune('a' + i)), Status: st})
	}
	stop := fmt.Errorf("campaign interrupted: %w", engine.ErrInterrupted)
	aborted := *sum
	aborted.MayHaveCalled = []string{"u1", "u2", "u3"}
	one := &engine.Summary{Counts: map[job.Status]int{job.StatusSent: 1}, Rows: 1, Released: 1, Started: start, Finished: start.Add(3 * time.Second)}
	abortedOne := *sum
	abortedOne.MayHaveCalled = []string{"u1"}
	for _, tt := range []struct {
		name string
		out  campaign.Outcome
		want []string
	}{
		{"finished", campaign.Outcome{Summary: sum, Attempts: 12, Total: 9, Rate: 20, ReportPath: "r.csv"}, []string{
			"summary: 9 rows [sent=8 failed=1] in 3s; 12 Cognito attempts, 4.0/s achieved, 0 throttled; limiter rate now 20.0/s",
			"report: r.csv",
			"1 failed: --resume --retry-failed calls it again (--report r.csv)",
		}},
		{"stopped, total known", campaign.Outcome{Summary: sum, Attempts: 12, Total: 200, Rate: 20, ReportPath: "r.csv", Stopped: stop}, []string{
			"summary: 9 rows [sent=8 failed=1] in 3s; 12 Cognito attempts, 4.0/s achieved, 0 throttled; limiter rate now 20.0/s",
			"summary: stopped with 191 of 200 rows left, not attempted (no row); the same command with --resume --report r.csv continues",
			"report: r.csv",
			"1 failed: --resume --retry-failed calls it again (--report r.csv)",
		}},
		{"stopped, total unknown", campaign.Outcome{Summary: sum, Attempts: 12, Total: -1, Rate: 20, ReportPath: "r.csv", Stopped: stop}, []string{
			"summary: 9 rows [sent=8 failed=1] in 3s; 12 Cognito attempts, 4.0/s achieved, 0 throttled; limiter rate now 20.0/s",
			"summary: stopped: rows not in the report were not attempted; the same command with --resume --report r.csv continues",
			"report: r.csv",
			"1 failed: --resume --retry-failed calls it again (--report r.csv)",
		}},
		{"queue worker stopped", campaign.Outcome{Summary: sum, Attempts: 12, Total: -1, Rate: 20, ReportPath: "r.csv", Stopped: stop, Redelivers: true}, []string{
			"summary: 9 rows [sent=8 failed=1] in 3s; 12 Cognito attempts, 4.0/s achieved, 0 throttled; limiter rate now 20.0/s",
			"summary: stopped: messages without a row were not attempted and are received again",
			"report: r.csv",
		}},
		{"resumed and stopped", campaign.Outcome{Summary: sum, Attempts: 12, Total: 50, Rate: 20, ReportPath: "r.csv", Stopped: stop, Campaign: whole}, []string{
			"summary: this run: 9 rows [sent=8 failed=1] in 3s; 12 Cognito attempts, 4.0/s achieved, 0 throttled; limiter rate now 20.0/s",
			"summary: whole campaign (earlier runs and this one): 3 rows [sent=2 unknown=1]",
			"summary: stopped with 41 of 50 rows left, not attempted (no row); the same command with --resume --report r.csv continues",
			"report: r.csv",
		}},
		{"hard stop: calls aborted", campaign.Outcome{Summary: &aborted, Attempts: 12, Total: 200, Rate: 20, ReportPath: "r.csv", Stopped: stop}, []string{
			"summary: 9 rows [sent=8 failed=1] in 3s; 12 Cognito attempts, 4.0/s achieved, 0 throttled; limiter rate now 20.0/s",
			"summary: 3 users may have been sent a code but have no row (their calls were aborted): u1, u2, u3; --resume reports them unknown and does not call them again",
			"summary: stopped with 191 of 200 rows left: 3 may have been sent (above), 188 not attempted; the same command with --resume --report r.csv continues (the 3 as unknown)",
			"report: r.csv",
			"1 failed: --resume --retry-failed calls it again (--report r.csv)",
		}},
		{"hard stop: one call aborted", campaign.Outcome{Summary: &abortedOne, Attempts: 10, Total: -1, Rate: 20, ReportPath: "r.csv", Stopped: stop}, []string{
			"summary: 9 rows [sent=8 failed=1] in 3s; 10 Cognito attempts, 3.3/s achieved, 0 throttled; limiter rate now 20.0/s",
			"summary: 1 user may have been sent a code but has no row (its call was aborted): u1; --resume reports it unknown and does not call it again",
			"summary: stopped: rows not in the report were not attempted but for the 1 above; the same command with --resume --report r.csv continues (the 1 as unknown)",
			"report: r.csv",
			"1 failed: --resume --retry-failed calls it again (--report r.csv)",
		}},
		{"hard stop, total unknown", campaign.Outcome{Summary: &aborted, Attempts: 12, Total: -1, Rate: 20, ReportPath: "r.csv", Stopped: stop}, []string{
			"summary: 9 rows [sent=8 failed=1] in 3s; 12 Cognito attempts, 4.0/s achieved, 0 throttled; limiter rate now 20.0/s",
			"summary: 3 users may have been sent a code but have no row (their calls were aborted): u1, u2, u3; --resume reports them unknown and does not call them again",
			"summary: stopped: rows not in the report were not attempted but for the 3 above; the same command with --resume --report r.csv continues (the 3 as unknown)",
			"report: r.csv",
			"1 failed: --resume --retry-failed calls it again (--report r.csv)",
		}},
		{"report failed: rows not written", campaign.Outcome{Summary: &aborted, Attempts: 12, Total: -1, Rate: 20, ReportPath: "r.csv",
			Stopped: errors.New("campaign stopped: report: disk full")}, []string{
			"summary: 9 rows [sent=8 failed=1] in 3s; 12 Cognito attempts, 4.0/s achieved, 0 throttled; limiter rate now 20.0/s",
			"summary: 3 users may have been sent a code but have no row (their calls were cut short or their rows not written when it stopped): u1, u2, u3; --resume reports them unknown and does not call them again",
			"summary: stopped: rows not in the report were not attempted but for the 3 above; the same command with --resume --report r.csv continues (the 3 as unknown)",
			"report: r.csv",
			"1 failed: --resume --retry-failed calls it again (--report r.csv)",
		}},
		// Trial 4, finding 11: "1 rows", "1 Cognito attempts", "1 listing pages, 1 lookups by
		// name", "0 confirmation codes and 1 invitation sent", "1 AdminCreateUser RESEND attempts".
		{"one of each", campaign.Outcome{Summary: one, Attempts: 0, Total: 1, Rate: 20, ReportPath: "r.csv", VerifyCalls: 1,
			ListPages: 1, ListLookups: 1, Invitations: 1, InvitationRate: 10, Sent: map[job.Message]int{job.MessageInvitation: 1}}, []string{
			"summary: 1 row [sent=1] in 3s; 1 Cognito attempt (0 ResendConfirmationCode, 1 AdminCreateUser), 0.3/s achieved, 0 throttled; limiter rate now 20.0/s",
			"summary: 1 AdminGetUser call (--verify-users: each user checked before the resend, and the start-up check); each user checked is a billed monthly active user this month",
			"summary: 2 ListUsers calls (1 listing page, 1 lookup by name); none of them bills a user",
			"summary: 1 invitation sent; 1 AdminCreateUser RESEND attempt (--invitations, invitation rate now 10.0/s)",
			"report: r.csv",
		}},
		{"verify-users paces the run", campaign.Outcome{Summary: sum, Attempts: 12, Total: 9, Rate: 20, VerifyRate: 7.5, ReportPath: "r.csv"}, []string{
			"summary: 9 rows [sent=8 failed=1] in 3s; 12 Cognito attempts, 4.0/s achieved, 0 throttled; limiter rate now 20.0/s, --verify-users check rate now 7.5/s (the lower one sets the pace)",
			"report: r.csv",
			"1 failed: --resume --retry-failed calls it again (--report r.csv)",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			printSummary(&b, &tt.out)
			require.Equal(t, strings.Join(tt.want, "\n")+"\n", b.String())
		})
	}
}

// Log-mode progress lines carry the total, the percent done and the ETA when the total
// is known.
func TestProgressAttrs(t *testing.T) {
	t.Parallel()

	attrs := func(a []any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(a); i += 2 {
			m[a[i].(string)] = a[i+1]
		}
		return m
	}
	require.Equal(t, map[string]any{"done": 50, "failed": 1, "rows_per_s": "10.0", "limiter_rate": "20.0",
		"total": 200, "percent": "25.0", "eta": "15s"}, attrs(progressAttrs(50, 1, 200, 10, 20)))
	require.Equal(t, map[string]any{"done": 0, "failed": 0, "rows_per_s": "0.0", "limiter_rate": "20.0",
		"total": 200, "percent": "0.0"}, attrs(progressAttrs(0, 0, 200, 0, 20)),
		"no row yet (an outage): no rate to tell an ETA from")
	require.Equal(t, map[string]any{"done": 7, "failed": 0, "rows_per_s": "7.0", "limiter_rate": "20.0"},
		attrs(progressAttrs(7, 0, -1, 7, 20)), "no total, no percent or ETA")
	require.Equal(t, "100.0", attrs(progressAttrs(0, 0, 0, 0, 20))["percent"])
}

func TestStoppingNotice(t *testing.T) {
	t.Parallel()
	require.Equal(t, "stopping: 8 calls in flight, waiting up to 25s; press Ctrl-C again to abort them "+
		"(no new call starts; --resume then reports their users unknown)", stoppingNotice(8, 25*time.Second))
	require.Equal(t, "stopping: no call in flight; no new call starts; writing the report", stoppingNotice(0, 25*time.Second))
}

func TestNameSome(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a, b", nameSome([]string{"a", "b"}, 2))
	require.Equal(t, "a, b and 1 more", nameSome([]string{"a", "b", "c"}, 2))
}
