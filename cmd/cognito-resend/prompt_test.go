package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/campaign"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

func TestETARoundsUpToWholeSeconds(t *testing.T) {
	t.Parallel()
	require.Equal(t, "3s", eta(51, 20).String())
	require.Equal(t, "2s", eta(3, 2).String())
	require.Equal(t, "0s", eta(0, 20).String())
	require.Equal(t, "1m0s", eta(1200, 20).String())
}

// The ETA counts the census's lookups at --list-rate (they hold the workers before the
// sends: the trial's prompt said 40s for a run of 53.6s).
func TestETACountsLookups(t *testing.T) {
	t.Parallel()
	cen := campaign.Census{ToSend: 200, Verify: &campaign.VerifyReads{Lookups: 67, ListRate: 5}}
	require.Equal(t, "54s", cen.ETA(5).String())
	require.Equal(t, "14s", cen.LookupsETA().String())
	var out strings.Builder
	require.ErrorIs(t, confirm(t.Context(), strings.NewReader("n\n"), &out, cen, 5), errDeclined)
	require.Equal(t, "About to resend confirmation codes to 200 users at 5/s (about 54s; 14s of it: 67 ListUsers lookups at "+
		"--list-rate 5). Continue? [y/N] ", out.String())
}

func TestConfirmCountsUsersCalledAgain(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	require.ErrorIs(t, confirm(t.Context(), strings.NewReader("n\n"), &out, campaign.Census{ToSend: 5, Again: 2}, 10), errDeclined)
	require.Equal(t, "About to resend confirmation codes to 5 users (2 of them again) at 10/s (about 1s). Continue? [y/N] ", out.String())
	out.Reset()
	require.NoError(t, confirm(t.Context(), strings.NewReader("y\n"), &out, campaign.Census{ToSend: 3}, 10))
	require.Equal(t, "About to resend confirmation codes to 3 users at 10/s (about 1s). Continue? [y/N] ", out.String())
	// What README says: y or yes, in any case, continues; anything else is a no.
	for _, yes := range []string{"Y\n", "yes\n", "YES\n", " y \n"} {
		require.NoError(t, confirm(t.Context(), strings.NewReader(yes), io.Discard, campaign.Census{ToSend: 3}, 10), yes)
	}
	for _, no := range []string{"\n", "yep\n", "ja\n", "", "no\n"} {
		require.ErrorIs(t, confirm(t.Context(), strings.NewReader(no), io.Discard, campaign.Census{ToSend: 3}, 10), errDeclined, no)
	}
}

// With --invitations the prompt says how many of each message go out, when the source
// knows each user's state (the pool's listing), and that the state decides otherwise.
func TestConfirmCountsMessages(t *testing.T) {
	// The prompt repeats what the dry run says an invitation does.
	const newPassword = "invitations: admin-created users (FORCE_CHANGE_PASSWORD) get their invitation again " +
		"(AdminCreateUser RESEND): a NEW temporary password, the old one stops working\n"
	t.Parallel()
	var out strings.Builder
	require.NoError(t, confirm(t.Context(), strings.NewReader("y\n"), &out,
		campaign.Census{ToSend: 150, Confirmations: 120, Invitations: 30, WithInvitations: true, InvitationDelivery: "EMAIL"}, 10))
	require.Equal(t, newPassword+"About to send 120 confirmation codes and 30 invitations to 150 users at 10/s (about 15s). Continue? [y/N] ", out.String())
	out.Reset()
	require.NoError(t, confirm(t.Context(), strings.NewReader("y\n"), &out,
		campaign.Census{ToSend: 1, Confirmations: 0, Invitations: 1, WithInvitations: true, InvitationDelivery: "EMAIL"}, 10))
	require.Equal(t, newPassword+"About to send 1 invitation to 1 user at 10/s (about 1s). Continue? [y/N] ", out.String())
	out.Reset()
	require.NoError(t, confirm(t.Context(), strings.NewReader("y\n"), &out, campaign.Census{ToSend: 7, WithInvitations: true, InvitationDelivery: "EMAIL"}, 10))
	require.Equal(t, newPassword+"About to resend confirmation codes or invitations (each user's state decides) to 7 users at 10/s (about 1s). Continue? [y/N] ", out.String())
}

func TestRetryHint(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sum := &engine.Summary{Counts: map[job.Status]int{job.StatusFailed: 2, job.StatusLimitExceeded: 1}, Finished: end}
	hint := func(o campaign.Outcome) string {
		var b strings.Builder
		printRetryHint(&b, &o)
		return b.String()
	}
	require.Equal(t, "2 failed: --resume --retry-failed calls them again (--report r.csv)\n"+
		"1 limit_exceeded (Cognito's per-user limit): --resume --retry-failed calls it again once its hour has passed (at 2026-03-01T12:59:00Z)\n",
		hint(campaign.Outcome{Summary: sum, ReportPath: "r.csv", LimitDue: end.Add(59 * time.Minute)}))
	require.Empty(t, hint(campaign.Outcome{Summary: sum, ReportPath: "r.csv", Redelivers: true}), "a queue retries by itself")
	// A resumed campaign: the latest row of each line counts, not this run's rows.
	require.Equal(t, "1 limit_exceeded (Cognito's per-user limit): --resume --retry-failed calls it again now\n",
		hint(campaign.Outcome{Summary: sum, ReportPath: "r.csv", LimitDue: end.Add(-time.Minute),
			Campaign: &records.Tally{Counts: map[job.Status]int{job.StatusSent: 9, job.StatusLimitExceeded: 1}, Rows: 10}}))
}

// A signal at the prompt is a no: before any answer, and with a y already typed (the
// campaign must not start only to stop).
func TestConfirmSignalIsANo(t *testing.T) {
	t.Parallel()
	stopped, cancel := context.WithCancel(t.Context())
	cancel()
	var out strings.Builder
	require.ErrorIs(t, confirm(stopped, strings.NewReader("y\n"), &out, campaign.Census{ToSend: 3}, 10), errInterrupted)
	pr, pw := io.Pipe() // nothing typed: the read blocks
	defer pw.Close()
	stop, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- confirm(stop, pr, io.Discard, campaign.Census{ToSend: 3}, 10) }()
	cancel()
	require.ErrorIs(t, <-done, errInterrupted)
}
