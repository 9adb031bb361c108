package campaign

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/clock/clocktest"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// The campaign's policies, with the AWS side faked (fakeFactory) and the clock injected:
// no binary, no emulator. The process tests in cmd/cognito-resend prove the same
// behaviour as the operator sees it.

var testNow = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

// drivenFakes is a fresh directory, a fake clock that moves on at each wait (the
// assertions are not about when), and the fake AWS side over a pool of users.
func drivenFakes(t *testing.T, pool map[string]types.UserStatusType) (string, *clockwork.FakeClock, *fakeFactory) {
	t.Helper()
	clk := clockwork.NewFakeClockAt(testNow)
	clocktest.Drive(t, clk, 10*time.Millisecond)
	return t.TempDir(), clk, &fakeFactory{cognito: newFakeCognito(pool)}
}

// sorted is names in order (the workers call in any order).
func sorted(names []string) []string { slices.Sort(names); return names }

// rowsOf reads the report's rows as username → status (the last row of each).
func rowsOf(t *testing.T, path string) map[string]job.Status {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	user, status := slices.Index(recs[0], "username"), slices.Index(recs[0], "status")
	rows := map[string]job.Status{}
	for _, r := range recs[1:] {
		rows[r[user]] = job.Status(r[status])
	}
	return rows
}

// writeReport makes the report of an earlier run: rows (line → result) and, for the
// users in intents, an intent without an outcome in the file ledger (a call that may
// have reached Cognito).
func writeReport(t *testing.T, path string, rows []job.Result, intents []job.Job) {
	t.Helper()
	w, err := records.OpenReport(path, false)
	require.NoError(t, err)
	for _, r := range rows {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close())
	l, err := records.OpenLedger(records.LedgerPath(path), false, clockwork.NewFakeClockAt(testNow))
	require.NoError(t, err)
	for _, j := range intents {
		require.NoError(t, l.Intend(context.Background(), j))
	}
	require.NoError(t, l.Close())
}

// TestResumePolicy: what an earlier run's rows make of the next run. A sent user is
// skipped; a user left unknown (an intent without an outcome) is recorded unknown and
// not called; a limit_exceeded user within Cognito's hour is not called, and the outcome
// says when that hour is over; the users without a row are called.
func TestResumePolicy(t *testing.T) {
	t.Parallel()
	dir, clk, f := drivenFakes(t, nil)
	users := []string{"alice", "bob", "carol", "dave", "erin"} // lines 2..6
	limited := testNow.Add(-10 * time.Minute)
	c := testCampaign(t, dir, users, f, clk, func(cfg *config.Config) { cfg.Resume = true })
	writeReport(t, c.ReportPath(), []job.Result{
		{Username: "alice", Status: job.StatusSent, SourceRef: "2", StartedAt: testNow.Add(-time.Hour), FinishedAt: testNow.Add(-time.Hour)},
		{Username: "bob", Status: job.StatusLimitExceeded, SourceRef: "3", ErrorCode: "LimitExceededException", StartedAt: limited, FinishedAt: limited},
	}, []job.Job{{Username: "dave", SourceRef: "5"}})

	out, err := c.Run(context.Background(), context.Background(), nil)
	require.NoError(t, err)
	require.NoError(t, out.Stopped)
	require.Equal(t, []string{"carol", "erin"}, sorted(f.cognito.called("ResendConfirmationCode")),
		"only the users without a row are called")
	require.Equal(t, limited.Add(job.LimitWindow), out.LimitDue.UTC(), "bob's hour is over then")
	require.Equal(t, map[string]job.Status{"alice": job.StatusSent, "bob": job.StatusLimitExceeded,
		"carol": job.StatusSent, "dave": job.StatusUnknown, "erin": job.StatusSent}, rowsOf(t, c.ReportPath()))
	require.Equal(t, 1, out.Summary.Counts[job.StatusUnknown], "dave's unknown row is recorded by this run")
}

// TestResumeInvitesTheNotEligible: a user an earlier run left not_eligible (admin-created,
// FORCE_CHANGE_PASSWORD) is not final for --resume --invitations: they get their
// invitation, and a code to no one; without --invitations they stay as they are.
func TestResumeInvitesTheNotEligible(t *testing.T) {
	t.Parallel()
	for _, invitations := range []bool{false, true} {
		dir, clk, f := drivenFakes(t, map[string]types.UserStatusType{
			"alice": types.UserStatusTypeUnconfirmed, "carol": types.UserStatusTypeForceChangePassword})
		c := testCampaign(t, dir, []string{"alice", "carol"}, f, clk, func(cfg *config.Config) {
			cfg.Resume, cfg.VerifyUsers, cfg.UserPoolID, cfg.Invitations = true, true, "us-east-1_Pool1", invitations
		})
		writeReport(t, c.ReportPath(), []job.Result{
			{Username: "alice", Status: job.StatusSent, SourceRef: "2", FinishedAt: testNow.Add(-time.Hour)},
			{Username: "carol", Status: job.StatusNotEligible, ErrorCode: "FORCE_CHANGE_PASSWORD", SourceRef: "3", FinishedAt: testNow.Add(-time.Hour)},
		}, nil)
		out, err := c.Run(context.Background(), context.Background(), nil)
		require.NoError(t, err)
		require.NoError(t, out.Stopped)
		require.Empty(t, f.cognito.called("ResendConfirmationCode"), "invitations=%v", invitations)
		invited := slices.DeleteFunc(f.cognito.called("AdminCreateUser"), func(u string) bool { return u != "carol" }) // not the start-up probe
		if invitations {
			require.Equal(t, []string{"carol"}, invited)
			require.Equal(t, 1, out.Sent[job.MessageInvitation])
		} else {
			require.Empty(t, invited)
			require.Zero(t, out.Summary.Rows, "nothing left to do")
		}
	}
}

// TestCensusPlacesUsersByListUsers: --verify-users on a CSV places the users the census
// of the pool lists (ListUsers, one listing) and looks up by name only those it can't
// place; it never calls AdminGetUser (each call bills a monthly active user). The census
// counts the same lookups the run then makes.
func TestCensusPlacesUsersByListUsers(t *testing.T) {
	t.Parallel()
	dir, clk, f := drivenFakes(t, map[string]types.UserStatusType{
		"alice": types.UserStatusTypeUnconfirmed, "bob": types.UserStatusTypeConfirmed,
		"carol": types.UserStatusTypeUnconfirmed})
	c := testCampaign(t, dir, []string{"alice", "bob", "carol", "dave"}, f, clk, func(cfg *config.Config) {
		cfg.VerifyUsers, cfg.UserPoolID = true, "us-east-1_Pool1"
	})
	cen, err := c.Census(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, cen.ToSend)
	require.Equal(t, 2, cen.Verify.Placed, "alice and carol: listed UNCONFIRMED")
	require.Equal(t, 2, cen.Verify.Lookups, "bob (not in a listed state) and dave (not in the pool)")
	require.Zero(t, cen.Verify.AdminGetUser)
	require.Equal(t, []string{""}, f.cognito.called("ListUsers"), "the census: one page, no lookup yet")

	out, err := c.Run(context.Background(), context.Background(), nil)
	require.NoError(t, err)
	require.NoError(t, out.Stopped)
	require.Equal(t, []string{"alice", "carol"}, sorted(f.cognito.called("ResendConfirmationCode")))
	require.Equal(t, []string{"", "bob", "dave"}, sorted(f.cognito.called("ListUsers")), "the census, then a lookup each")
	require.Empty(t, f.cognito.called("AdminGetUser"))
	require.Equal(t, map[string]job.Status{"alice": job.StatusSent, "bob": job.StatusAlreadyConfirmed,
		"carol": job.StatusSent, "dave": job.StatusUserNotFound}, rowsOf(t, c.ReportPath()))
	require.EqualValues(t, 1, out.ListPages)
	require.EqualValues(t, 2, out.ListLookups)
}

// TestDailyBudgetStopsTheRun: a CSV campaign under --daily-budget sends the window's
// budget and stops with the budget's SpentError (exit 4: more to do in the next window),
// the users past it not attempted.
func TestDailyBudgetStopsTheRun(t *testing.T) {
	t.Parallel()
	dir, clk, f := drivenFakes(t, nil)
	c := testCampaign(t, dir, []string{"alice", "bob", "carol", "dave", "erin"}, f, clk, func(cfg *config.Config) {
		cfg.DailyBudget, cfg.Workers = 2, 1
	})
	out, err := c.Run(context.Background(), context.Background(), nil)
	require.NoError(t, err)
	se := out.Spent()
	require.NotNil(t, se, "stopped by the budget: %v", out.Stopped)
	require.Equal(t, 2, se.Limit)
	require.Len(t, f.cognito.called("ResendConfirmationCode"), 2, "the budget's sends, not one more")
	require.Equal(t, 2, out.Summary.Counts[job.StatusSent])
	require.Equal(t, 2, out.Budget.Spent)
	require.True(t, out.Budget.Next.After(testNow))
}

// inFlightCampaign runs a one-worker campaign whose first call waits (for release, or
// for its context to end), and returns once that call is in flight.
func inFlightCampaign(t *testing.T) (c *Campaign, clk *clockwork.FakeClock, release chan struct{},
	stop, kill context.CancelFunc, done chan *Outcome) {
	t.Helper()
	dir := t.TempDir()
	clk = clockwork.NewFakeClockAt(testNow)
	release, inFlight := make(chan struct{}), make(chan struct{}, 1)
	f := &fakeFactory{cognito: newFakeCognito(nil)}
	f.cognito.resend = func(ctx context.Context, _ string) error {
		inFlight <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c = testCampaign(t, dir, []string{"alice", "bob", "carol"}, f, clk, func(cfg *config.Config) {
		cfg.Workers, cfg.ShutdownTimeout = 1, time.Minute
	})
	stopCtx, stop := context.WithCancel(context.Background())
	killCtx, kill := context.WithCancel(context.Background())
	done = make(chan *Outcome, 1)
	go func() {
		out, err := c.Run(stopCtx, killCtx, nil)
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	<-inFlight
	return c, clk, release, stop, kill, done
}

// blockUntilTimer waits (10 s at most) until something waits on clk: the shutdown budget's timer.
func blockUntilTimer(t *testing.T, clk *clockwork.FakeClock) error {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return clk.BlockUntilContext(ctx, 1)
}

// TestShutdownBudget: the first stop lets the call in flight finish within
// --shutdown-timeout, measured on the campaign's clock; past it the call is aborted, as
// it is at once by the second stop. An aborted call's user has no row and is named: the
// call may have reached Cognito.
func TestShutdownBudget(t *testing.T) {
	t.Parallel()
	wait := func(t *testing.T, done chan *Outcome) *Outcome {
		select {
		case out := <-done:
			return out
		case <-time.After(10 * time.Second):
			t.Fatal("the run did not end")
			return nil
		}
	}
	t.Run("the call in flight finishes within the budget", func(t *testing.T) {
		t.Parallel()
		_, clk, release, stop, _, done := inFlightCampaign(t)
		stop()
		require.NoError(t, blockUntilTimer(t, clk)) // the budget's timer
		clk.Advance(time.Minute - time.Nanosecond)
		select {
		case <-done:
			t.Fatal("the run ended before its call in flight did")
		case <-time.After(50 * time.Millisecond): // bounded: it must still be waiting
		}
		close(release)
		out := wait(t, done)
		require.Equal(t, 1, out.Summary.Counts[job.StatusSent], "alice's call finished and has its row")
		require.Empty(t, out.MayHaveCalled())
		require.True(t, out.Signalled)
		require.ErrorContains(t, out.Stopped, "campaign interrupted; rows not in the report were not attempted")
	})
	t.Run("past the budget the call is aborted", func(t *testing.T) {
		t.Parallel()
		_, clk, _, stop, _, done := inFlightCampaign(t)
		stop()
		require.NoError(t, blockUntilTimer(t, clk))
		clk.Advance(time.Minute)
		out := wait(t, done)
		require.Equal(t, []string{"alice"}, out.MayHaveCalled())
		require.Zero(t, out.Summary.Rows)
		require.ErrorContains(t, out.Stopped, "1 user without a row may have been sent a code")
	})
	t.Run("the second stop aborts at once", func(t *testing.T) {
		t.Parallel()
		_, _, _, stop, kill, done := inFlightCampaign(t)
		stop()
		kill()
		out := wait(t, done)
		require.Equal(t, []string{"alice"}, out.MayHaveCalled())
	})
}

// TestCleanupStack: a run closes every part it opened once, the last opened first —
// after a run, and when its assembly fails halfway (here its report appeared after the
// checks: the parts opened before it are closed, the rest never opened).
func TestCleanupStack(t *testing.T) {
	t.Parallel()
	var s cleanup
	var closed []string
	s.trace = func(name string) { closed = append(closed, name) }
	errA, errC := errors.New("a"), errors.New("c")
	s.push("a", func(context.Context) error { return errA })
	s.push("b", func(context.Context) error { return nil })
	s.push("c", func(context.Context) error { return errC })
	err := s.unwind(context.Background())
	require.ErrorIs(t, err, errA)
	require.ErrorIs(t, err, errC)
	require.Equal(t, []string{"c", "b", "a"}, closed)
	require.NoError(t, s.unwind(context.Background()), "closed once")
	require.Len(t, closed, 3)

	// run runs a campaign of two users, table its --ledger-table with --fleet-rate (nil:
	// the file ledger), after breakIt; it returns what its unwind closed, in order.
	run := func(t *testing.T, table DynamoAPI, breakIt func(c *Campaign)) ([]string, *Campaign, error) {
		dir, clk, f := drivenFakes(t, nil)
		f.dynamo = table
		c := testCampaign(t, dir, []string{"alice", "bob"}, f, clk, func(cfg *config.Config) {
			if table != nil {
				cfg.LedgerTable, cfg.FleetRate, cfg.FleetName = "ledger", 10, "workers"
			}
		})
		var closed []string
		c.traceCleanup = func(name string) { closed = append(closed, name) }
		breakIt(c)
		_, err := c.Run(context.Background(), context.Background(), nil)
		return closed, c, err
	}
	closed, _, err = run(t, nil, func(*Campaign) {})
	require.NoError(t, err)
	require.Equal(t, []string{"intent ledger", "report", "fresh files", "source", "run context"}, closed)

	// Halfway: the report appeared after the checks; the source was open, the rest never.
	closed, _, err = run(t, nil, func(c *Campaign) {
		_, err := c.Census(context.Background()) // the checks pass
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(c.ReportPath(), nil, 0o600)) // then the report appears
	})
	require.ErrorContains(t, err, "report.csv")
	require.Equal(t, []string{"source", "run context"}, closed)

	// Later: the fleet refuses this replica (access denied on the table) after the report
	// was created: it leaves, the report is closed and removed (no call was made), the
	// source closed.
	table := &deniedTable{}
	closed, c, err := run(t, table, func(*Campaign) {})
	require.ErrorContains(t, err, "AccessDeniedException")
	require.Equal(t, []string{"fleet", "report", "fresh files", "source", "run context"}, closed)
	require.NoFileExists(t, c.ReportPath(), "a run that never started leaves no report")
	require.Contains(t, table.calls, "DeleteItem", "the replica left the fleet")
}
