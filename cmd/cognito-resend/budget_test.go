package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
)

// Process tests of the daily send budget (docs/long-campaigns.md): the built binary, the
// quota simulator (its success count is the truth about sends), dynalite for the table.

// nextWindow is the next window's opening as the summary names it (windows at 00:00 UTC).
func nextWindow() string {
	return budget.Schedule{}.Next(time.Now()).Format(time.RFC3339)
}

// rowCounts is status → rows of a CSV report.
func rowCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	_, rows := readCSVReport(t, path)
	out := map[string]int{}
	for _, r := range rows {
		out[r["status"]]++
	}
	return out
}

// TestDailyBudgetStopsWithExit4: --daily-budget 10 on 30 users sends exactly 10 and exits
// 4, its summary naming what is left and the next window; --resume in the same window
// sends nothing (the report's rows of the window are what was spent) and exits 4 again.
func TestDailyBudgetStopsWithExit4(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	list := writeUsers(t, dir, "users.csv", userRange(0, 30))
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	args := []string{"run", "--csv", list, "--report", "r.csv", "--daily-budget", "10", "--rate", "100", "--log-format", "text"}

	res := runBin(t, dir, env, "", args...)
	t.Logf("first run: exit %d; summary:\n%s", res.code, res.stderr[strings.Index(res.stderr, "summary: "):])
	require.Equal(t, 4, res.code, res.stderr)
	require.EqualValues(t, 10, sim.Sim.Stats().Successes, "exactly the budget, counted at the simulator")
	require.Contains(t, res.stderr, "summary: stopped: daily budget spent: 10 of 10 sent in this window (this run: 10); 20 of 30 rows left, not attempted (no row)")
	require.Contains(t, res.stderr, "summary: the next window opens "+nextWindow())
	require.Contains(t, res.stderr, "the same command with --resume --report r.csv continues then")
	require.Contains(t, res.stderr, "summary: at 10 a window, the users left to send (20) take 2 more window(s)")
	require.NotContains(t, res.stderr, "cognito-resend: ", "exit 4 is not an error")
	require.Equal(t, map[string]int{"sent": 10}, rowCounts(t, filepath.Join(dir, "r.csv")))

	res = runBin(t, dir, env, "", append(args, "--resume")...)
	t.Logf("second run, same window: exit %d; summary:\n%s", res.code, res.stderr[strings.Index(res.stderr, "summary: "):])
	require.Equal(t, 4, res.code, res.stderr)
	require.EqualValues(t, 10, sim.Sim.Stats().Calls, "no call: the window's 10 sends are in the report")
	require.Contains(t, res.stderr, "summary: stopped: daily budget spent: 10 of 10 sent in this window (this run: 0); 20 of 20 rows left")
	require.Equal(t, map[string]int{"sent": 10}, rowCounts(t, filepath.Join(dir, "r.csv")))

	// The dry run says how many windows the rest takes.
	res = runBin(t, dir, env, "", append(args, "--resume", "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "budget:      10 a window from 00:00 UTC, 10 spent in this one: 2 windows (days), the last opening "+budget.Schedule{}.Next(time.Now()).AddDate(0, 0, 1).Format(time.RFC3339))
}

// TestBudgetWindowsLeftCountSends: the exit-4 summary's windows left counted the invalid
// and duplicate rows to come (the trial: 5 where the resume's dry run said 4); they take
// no budget. 26 lines, 2 invalid and 1 duplicate at the end, budget 3: 20 users left to
// send, 7 windows, as the dry run of the resume counts them.
func TestBudgetWindowsLeftCountSends(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	lines := append(append([]string{"username"}, userRange(0, 23)...), "bad name", "bad\tname", userRange(0, 1)[0])
	writeLines(t, filepath.Join(dir, "users.csv"), lines...)
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	args := []string{"run", "--csv", "users.csv", "--report", "r.csv", "--daily-budget", "3", "--workers", "1", "--log-format", "text"}
	res := runBin(t, dir, env, "", args...)
	t.Logf("exit %d; summary:\n%s", res.code, res.stderr[strings.Index(res.stderr, "summary: "):])
	require.Equal(t, 4, res.code, res.stderr)
	require.EqualValues(t, 3, sim.Sim.Stats().Successes)
	require.Contains(t, res.stderr, "summary: at 3 a window, the users left to send (20) take 7 more window(s)")

	res = runBin(t, dir, env, "", append(args, "--resume", "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	t.Logf("dry run of the resume:\n%s", res.stdout)
	require.Contains(t, res.stdout, "to send:     20")
	require.Contains(t, res.stdout, "3 spent in this one: 7 windows (days)")
}

// TestDailyBudgetSharedByTheTable: two campaigns started together on one ledger table,
// each of 30 users, one --daily-budget 10: 10 sends in all, both exit 4.
func TestDailyBudgetSharedByTheTable(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dynamo := newLedgerTable(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 3 * time.Millisecond})
	env := ledgerEnv(sim.URL, dynamo)
	dirA, dirB := t.TempDir(), t.TempDir()
	listA, listB := writeUsers(t, dirA, "a.csv", userRange(0, 30)), writeUsers(t, dirB, "b.csv", userRange(100, 130))
	var wg sync.WaitGroup
	results := make([]runResult, 2)
	for i, c := range []struct{ dir, csv string }{{dirA, listA}, {dirB, listB}} {
		wg.Go(func() {
			results[i] = runBin(t, c.dir, env, "", "run", "--csv", c.csv, "--report", "r.csv", "--ledger-table", "ledger",
				"--daily-budget", "10", "--rate", "100", "--workers", "4", "--log-level", "warn")
		})
	}
	wg.Wait()
	sent := 0
	for i, r := range results {
		require.Equal(t, 4, r.code, r.stderr)
		n := rowCounts(t, filepath.Join([]string{dirA, dirB}[i], "r.csv"))["sent"]
		t.Logf("campaign %d: exit %d, %d sent", i, r.code, n)
		sent += n
	}
	require.EqualValues(t, 10, sim.Sim.Stats().Successes, "one budget for both campaigns, counted at the simulator")
	require.Equal(t, 10, sent)
}

// TestDailyCapIsExit4: Cognito's daily email cap answered (the simulator's
// DailyEmailLimit 5) stops a campaign with exit 4, not 3: no user is `failed`, the users
// not sent have no row, and --resume calls them in the next window.
func TestDailyCapIsExit4(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{DailyEmailLimit: 5})
	dir := t.TempDir()
	list := writeUsers(t, dir, "users.csv", userRange(0, 20))
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	res := runBin(t, dir, env, "", "run", "--csv", list, "--report", "r.csv", "--rate", "100", "--workers", "4", "--log-format", "text")
	t.Logf("daily cap: exit %d; summary:\n%s", res.code, res.stderr[strings.Index(res.stderr, "summary: "):])
	require.Equal(t, 4, res.code, res.stderr)
	require.EqualValues(t, 5, sim.Sim.Stats().Successes)
	counts := rowCounts(t, filepath.Join(dir, "r.csv"))
	require.Zero(t, counts["failed"], "the daily cap fails no user: %v", counts)
	require.Equal(t, map[string]int{"sent": 5}, counts)
	require.Contains(t, res.stderr, "summary: stopped: Cognito's daily email limit is reached")
	require.Contains(t, res.stderr, "15 of 20 rows left, not sent (no row: none failed; the call Cognito refused with its cap is made again then)")
	require.Contains(t, res.stderr, "summary: the next window opens "+nextWindow())

	// The next day (the simulator's counters reset): --resume sends the rest.
	sim.Sim.Reset()
	res = runBin(t, dir, env, "", "run", "--csv", list, "--report", "r.csv", "--rate", "100", "--resume", "--log-format", "text")
	require.Equal(t, 4, res.code, "the cap again after 5 more: %s", res.stderr)
	require.Equal(t, map[string]int{"sent": 10}, rowCounts(t, filepath.Join(dir, "r.csv")))
}

// TestQueueDailyCapPauses: a queue worker meeting Cognito's daily cap (the simulator's
// DailyEmailLimit 3) neither exits nor crash-loops: it stops receiving until the next
// window, /readyz stays ready, the gauges say when it receives again, and the messages
// not sent stay in the queue (none in the DLQ, maxReceiveCount 3) — through 3 restarts
// too. (Before: exit 3, and every restart received the messages once more until the DLQ
// had them.) The resumption at the next window is TestBudgetPauseWakesAtTheNextWindow's.
func TestQueueDailyCapPauses(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	q := newFauxQueue(t, "dailycap", 3)
	dir := t.TempDir()
	sim := quotasim.StartT(t, quotasim.Config{DailyEmailLimit: 3})
	env := sqsEnv(sim.URL, q.sqs, "c")
	enqueueUsers(t, dir, env, q.url, "dailycap", 10)
	args := []string{"run", "--sqs-queue-url", q.url, "--report", "r.csv", "--wait-time-seconds", "1",
		"--visibility-timeout", "20s", "--rate", "20", "--workers", "2", "--metrics-addr", "127.0.0.1:0", "--log-format", "json"}
	w := startWorker(t, dir, env, args...)
	w.waitSent(t, sim, 3)
	require.Eventually(t, func() bool {
		return strings.Contains(w.stderr.String(), "Cognito's daily email limit reached: not receiving until the next window")
	}, 20*time.Second, 20*time.Millisecond, w.stderr.String())
	require.False(t, w.exitedWithin(3*time.Second), "a queue worker waits for the next window: %s", w.stderr.String())
	code, body := w.get(t, "/readyz")
	require.Equal(t, 200, code, "waiting for the next window is not a fault: %s", body)
	_, metricsBody := w.get(t, "/metrics")
	next := budget.Schedule{}.Next(time.Now()).Unix()
	require.Regexp(t, `cognito_resend_daily_budget_next_window_timestamp_seconds `+regexp.QuoteMeta(strconv.FormatFloat(float64(next), 'g', -1, 64)), metricsBody)
	calls := userCalls(sim)
	time.Sleep(2 * time.Second) // wall time of the process under test: idle, no call, no receive
	require.Equal(t, calls, userCalls(sim), "no call while waiting")
	require.Equal(t, 0, w.stop(t), w.stderr.String())

	for i := range 3 { // a crash loop, or pods rescheduled
		w := startWorker(t, dir, env, append(args, "--resume")...)
		require.False(t, w.exitedWithin(3*time.Second), "restart %d: %s", i+1, w.stderr.String())
		require.Equal(t, 0, w.stop(t))
	}
	visible, notVisible := queueCounts(t, q.c, q.url)
	inDLQ, _ := queueCounts(t, q.c, q.dlq)
	t.Logf("after the cap and 3 restarts: %d sent, %d calls in all, %d visible, %d waiting for the next window, %d in the DLQ",
		sim.Sim.Stats().Successes, userCalls(sim), visible, notVisible, inDLQ)
	counts := rowCounts(t, filepath.Join(dir, "r.csv"))
	require.Zero(t, counts["failed"], "%v", counts)
	// The worker's first-answer probe is one of the simulator's 3 sends (its username
	// is no user's: Cognito would send it nothing).
	st := sim.Sim.Stats()
	require.EqualValues(t, 3, st.Successes)
	require.EqualValues(t, 3-st.PerUser[cognito.ProbeUsername].Successes, counts["sent"])
	require.Equal(t, 10-counts["sent"], visible+notVisible, "every message not sent stays in the queue")
	require.Zero(t, inDLQ)
}

// TestDailyBudgetPoolCampaign: a pool campaign (cognito-local behind the simulator) under
// --daily-budget 3 of its 7 unconfirmed users: 3 sends, exit 4; --resume in the same
// window sends none; the dry run says how many windows.
func TestDailyBudgetPoolCampaign(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, false, []string{"bp-1", "bp-2", "bp-3", "bp-4", "bp-5", "bp-6", "bp-7"}, nil)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	args := []string{"run", "--user-pool-id", p.ID, "--report", "pool.csv", "--daily-budget", "3", "--log-format", "text"}
	res := runBin(t, dir, env, "", args...)
	require.Equal(t, 4, res.code, res.stderr)
	require.EqualValues(t, 3, sim.Sim.Stats().Successes)
	require.Contains(t, res.stderr, "summary: stopped: daily budget spent: 3 of 3 sent in this window (this run: 3)")
	require.Contains(t, res.stderr, "summary: the next window opens "+nextWindow())
	res = runBin(t, dir, env, "", append(args, "--resume")...)
	require.Equal(t, 4, res.code, res.stderr)
	require.EqualValues(t, 3, sim.Sim.Stats().Calls, "no call in the same window")
	res = runBin(t, dir, env, "", append(args, "--resume", "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "to send:     4")
	require.Contains(t, res.stdout, "budget:      3 a window from 00:00 UTC, 3 spent in this one: 2 windows (days)")
}

// TestQueueBudgetRestartsKeepTheQueue is the trial's silent loss: a queue worker paused by
// --daily-budget, restarted 3 times during the pause (maxReceiveCount 3), sends every user
// once at the next window and the DLQ holds none. A restart whose window is already spent
// receives nothing; the messages received and found unsendable are put off to the
// window, not released to be received again at once. (Before: each restart received the
// queue once more and released it, and at the window the users left went to the DLQ.)
// The window is made to open a minute or so from now (--budget-reset).
func TestQueueBudgetRestartsKeepTheQueue(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	reset := time.Now().UTC().Add(45 * time.Second).Truncate(time.Minute).Add(time.Minute)
	q := newFauxQueue(t, "budgetrestart", 3)
	dir := t.TempDir()
	sim := quotasim.StartT(t, quotasim.Config{})
	env := sqsEnv(sim.URL, q.sqs, "c")
	users := enqueueUsers(t, dir, env, q.url, "budgetrestart", 10)
	args := []string{"run", "--sqs-queue-url", q.url, "--report", "r.csv", "--wait-time-seconds", "1",
		"--visibility-timeout", "20s", "--rate", "20", "--workers", "2", "--log-format", "json",
		"--daily-budget", "5", "--budget-reset", reset.Format("15:04")}
	sent := func() int64 {
		return sim.Sim.Stats().Successes - sim.Sim.Stats().PerUser[cognito.ProbeUsername].Successes
	}
	w := startWorker(t, dir, env, args...)
	require.Eventually(t, func() bool {
		return strings.Contains(w.stderr.String(), "daily budget spent: not receiving until the next window")
	}, 30*time.Second, 20*time.Millisecond, w.stderr.String())
	require.EqualValues(t, 5, sent())
	require.Equal(t, 0, w.stop(t), w.stderr.String())

	for i := range 3 { // a crash loop, or pods rescheduled, during the pause
		w := startWorker(t, dir, env, append(args, "--resume")...)
		require.False(t, w.exitedWithin(3*time.Second), "restart %d: %s", i+1, w.stderr.String())
		require.Equal(t, 0, w.stop(t))
		require.NotContains(t, w.stderr.String(), "released the messages not started", "restart %d", i+1)
		require.Contains(t, w.stderr.String(), "daily budget spent: not receiving until the next window", "restart %d", i+1)
	}
	inDLQ, _ := queueCounts(t, q.c, q.dlq)
	require.Zero(t, inDLQ, "after 3 restarts during the pause")
	require.EqualValues(t, 5, sent(), "no send during the pause")
	require.True(t, time.Now().Before(reset), "the test outran its window: %s", reset)

	// The next window: the worker started during the pause receives once it opens.
	w = startWorker(t, dir, env, append(args, "--resume")...)
	deadline := reset.Add(time.Minute)
	for sent() < 10 {
		require.False(t, time.Now().After(deadline), "not every user sent after the window opened:\n%s", w.stderr.String())
		require.False(t, w.exitedWithin(50*time.Millisecond), w.stderr.String())
	}
	require.Equal(t, 0, w.stop(t), w.stderr.String())
	st := sim.Sim.Stats()
	for _, u := range users {
		require.EqualValues(t, 1, st.PerUser[u].Successes, "%s: one code", u)
	}
	visible, notVisible := queueCounts(t, q.c, q.url)
	inDLQ, _ = queueCounts(t, q.c, q.dlq)
	t.Logf("after 3 restarts and the window: %d sent, %d visible, %d not visible, %d in the DLQ", sent(), visible, notVisible, inDLQ)
	require.Zero(t, inDLQ, "none in the DLQ")
	require.Zero(t, visible+notVisible, "every message acked")
}

// TestDailyBudgetSummaryCountsWhatWasSpent: the stop summary prints the window's true
// count, not the budget. --daily-budget 2, 4 workers, every user unknown to Cognito
// (the calls slow): the third and fourth jobs find the budget taken while the first two
// are in flight, then those answer user_not_found and give their sends back. (Before: "2
// of 2 sent in this window" with no user sent.)
func TestDailyBudgetSummaryCountsWhatWasSpent(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	users := userRange(0, 10)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 300 * time.Millisecond,
		InjectAll: &quotasim.InjectedError{Type: "UserNotFoundException"}})
	dir := t.TempDir()
	list := writeUsers(t, dir, "users.csv", users)
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	res := runBin(t, dir, env, "", "run", "--csv", list, "--report", "r.csv", "--daily-budget", "2", "--rate", "100",
		"--workers", "4", "--log-format", "text")
	t.Logf("exit %d; summary:\n%s", res.code, res.stderr[strings.Index(res.stderr, "summary: "):])
	require.Equal(t, 4, res.code, res.stderr)
	counts := rowCounts(t, filepath.Join(dir, "r.csv"))
	require.Zero(t, counts["sent"], "%v", counts)
	require.Contains(t, res.stderr, "summary: stopped: daily budget spent: 0 of 2 sent in this window (this run: 0)")
}

// TestResumeKeepsTheDailyBudget: a campaign started with --daily-budget keeps it on a
// --resume that does not repeat it (recorded in the report's .input): no call in the spent
// window, exit 4; the dry run says where the budget came from; --daily-budget 0 lifts it,
// said out loud. (Before: the resume dropped the budget and sent the 20 users left.)
func TestResumeKeepsTheDailyBudget(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	list := writeUsers(t, dir, "users.csv", userRange(0, 30))
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	base := []string{"run", "--csv", list, "--report", "r.csv", "--rate", "100", "--log-format", "text"}
	res := runBin(t, dir, env, "", append(base, "--daily-budget", "10")...)
	require.Equal(t, 4, res.code, res.stderr)
	require.EqualValues(t, 10, sim.Sim.Stats().Calls)

	res = runBin(t, dir, env, "", append(base, "--resume", "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	t.Logf("dry run of the resume without --daily-budget:\n%s", res.stdout)
	require.Contains(t, res.stdout, "budget:      10 a window from 00:00 UTC, 10 spent in this one")
	require.Contains(t, res.stdout, "(recorded with the report (r.csv.input); --daily-budget overrides, 0 lifts it)")

	res = runBin(t, dir, env, "", append(base, "--resume")...)
	require.Equal(t, 4, res.code, res.stderr)
	require.EqualValues(t, 10, sim.Sim.Stats().Calls, "the spent window: no call")
	require.Contains(t, res.stderr, "the campaign's daily budget applies: recorded with the report")
	require.Contains(t, res.stderr, "summary: stopped: daily budget spent: 10 of 10 sent in this window (this run: 0)")

	res = runBin(t, dir, env, "", append(base, "--resume", "--dry-run", "--daily-budget", "0")...)
	require.Equal(t, 0, res.code, res.stderr)
	t.Logf("dry run with --daily-budget 0:\n%s%s", res.stdout, res.stderr)
	// Trial 4, finding 11: it said "(--daily-budget (the campaign started with 10 a window))".
	require.Contains(t, res.stdout, "budget:      none: --daily-budget 0 sends without a daily limit (the campaign started with 10 a window)\n")
	require.Contains(t, res.stderr, "--daily-budget 0 lifts the daily budget this campaign started with")
}

// TestResumeBudgetResetMoved: the trial's --resume --budget-reset 06:24 (without
// --daily-budget) on a report recorded with budget 3 from 00:00 opened a second window the
// same day and sent 3 more, its WARN ("counts no budget") contradicting its INFO. Now a
// reset other than the recorded one is refused while a send of the report is less than
// 24 h old, naming the recorded one; once none is, it is allowed and recorded, so a
// later --resume without it keeps it.
func TestResumeBudgetResetMoved(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	list := writeUsers(t, dir, "users.csv", userRange(0, 30))
	report := filepath.Join(dir, "r.csv")
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	base := []string{"run", "--csv", list, "--report", "r.csv", "--rate", "100", "--log-format", "text"}
	res := runBin(t, dir, env, "", append(base, "--daily-budget", "3")...)
	require.Equal(t, 4, res.code, res.stderr)
	require.EqualValues(t, 3, sim.Sim.Stats().Calls)
	// The sends are in this window of 00:00; a reset an hour ago begins a window that overlaps it.
	at := time.Now().UTC().Add(-time.Hour)
	if at.Format("15:04") == "00:00" {
		at = at.Add(-time.Minute) // not the recorded reset
	}
	reset := at.Format("15:04")

	for _, extra := range [][]string{nil, {"--dry-run"}} {
		res = runBin(t, dir, env, "", append(append(base, "--resume", "--budget-reset", reset), extra...)...)
		t.Logf("resume with --budget-reset %s %v: exit %d\n%s", reset, extra, res.code, res.stderr)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, "cognito-resend: --budget-reset: "+reset+" UTC is not the reset this campaign's "+
			"daily budget was recorded with (3 a window from 00:00 UTC, in r.csv.input), and 3 of the report's sends are "+
			"in its window from ")
		require.Contains(t, res.stderr, "it would send up to 3 more the same day. Nothing was sent. Resume without "+
			"--budget-reset (00:00 UTC applies). To move the reset, give it from ")
		require.NotContains(t, res.stderr, "counts no budget", "the WARN must not contradict the recorded budget")
	}
	// A reset later in the day than now: its window began yesterday and overlaps two of
	// the recorded reset's windows; the message names today's, which holds the sends (it
	// named yesterday's, the earliest overlapping one).
	if now := time.Now().UTC(); now.Hour() < 23 {
		later := now.Add(time.Hour).Format("15:04")
		res = runBin(t, dir, env, "", append(base, "--resume", "--budget-reset", later)...)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, "3 of the report's sends are in its window from "+now.Format("2006-01-02")+"T00:00:00Z")
	}
	// From the environment or a config file: named as such, and the log keeps the record's reset apart.
	res = runBin(t, dir, append(env, "COGNITO_RESEND_BUDGET_RESET="+reset), "", append(base, "--resume")...)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "cognito-resend: --budget-reset: "+reset+" UTC (from COGNITO_RESEND_BUDGET_RESET) is not the reset")
	require.Contains(t, res.stderr, "Resume without COGNITO_RESEND_BUDGET_RESET (00:00 UTC applies)")
	require.Contains(t, res.stderr, "recorded_budget_reset=00:00 budget_reset="+reset+" budget_reset_from=COGNITO_RESEND_BUDGET_RESET")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("budget-reset: \""+reset+"\"\n"), 0o600))
	res = runBin(t, dir, env, "", append(base, "--resume", "--config", "c.yaml")...)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, reset+" UTC (from the config file c.yaml) is not the reset")
	require.Contains(t, res.stderr, "Resume without budget-reset in the config file c.yaml (00:00 UTC applies)")
	require.EqualValues(t, 3, sim.Sim.Stats().Calls, "no second window the same day")

	// Days later the reset may move: this window sends 3, and the record keeps the new reset.
	// (49 h: a window of 00:00 holding a send 25 h old can still end after a reset an hour ago.)
	_, rows := readCSVReport(t, report)
	for _, r := range rows {
		setFinishedAt(t, report, r["username"], time.Now().Add(-49*time.Hour))
	}
	res = runBin(t, dir, env, "", append(base, "--resume", "--budget-reset", reset)...)
	t.Logf("a day later: exit %d\n%s", res.code, res.stderr)
	require.Equal(t, 4, res.code, res.stderr)
	require.EqualValues(t, 6, sim.Sim.Stats().Calls)
	require.Contains(t, res.stderr, "the daily budget's reset moves")
	in, err := os.ReadFile(report + ".input")
	require.NoError(t, err)
	require.Contains(t, string(in), `"budget_reset":"`+reset+`"`)
	require.NoFileExists(t, report+".moving.input", "written aside, then renamed over the record")
	res = runBin(t, dir, env, "", append(base, "--resume", "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "budget:      3 a window from "+reset+" UTC, 3 spent in this one")
}

// TestDailyBudgetPlanWarnings is the trial's rough edges, on the built binary's dry run:
// a budget without --ledger-table says it is this report's alone; a plan of more than a
// year of windows is called out; --budget-reset 9:00 is 09:00; --daily-budget 0 reads
// "none"; --budget-reset without a budget says what it does.
func TestDailyBudgetPlanWarnings(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	list := writeUsers(t, dir, "users.csv", userRange(0, 400))
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	base := []string{"run", "--csv", list, "--report", "r.csv", "--dry-run", "--log-format", "text"}

	res := runBin(t, dir, env, "", append(base, "--daily-budget", "1", "--budget-reset", "9:00")...)
	t.Logf("dry run:\n%s%s", res.stdout, res.stderr)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "--daily-budget 1 without --ledger-table: this budget counts only this report's sends; "+
		"campaigns on other reports spend their own; share one with --ledger-table")
	require.Contains(t, res.stdout, "budget:      1 a window from 09:00 UTC, 0 spent in this one: 400 windows (days)")
	require.Contains(t, res.stdout, "budget:      WARNING: 400 windows is more than a year of daily runs")

	res = runBin(t, dir, env, "", append(base, "--daily-budget", "0")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "budget:      none: --daily-budget 0 sends without a daily limit\n")

	res = runBin(t, dir, env, "", append(base, "--budget-reset", "06:00")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "--budget-reset without --daily-budget counts no budget")
	require.Zero(t, sim.Sim.Stats().Calls, "dry runs")
}

// TestDailyBudgetSignalWhileStopping: a double Ctrl-C while the run stops at the budget
// (its calls in flight, slow) is a signal's stop: exit 3, and the summary's counts agree —
// the users whose calls were aborted are "may have been sent", not "not attempted".
// (Before: exit 4, "3 users may have been sent a code" then "30 of 30 rows left, not
// attempted".)
func TestDailyBudgetSignalWhileStopping(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 20 * time.Second})
	dir := t.TempDir()
	list := writeUsers(t, dir, "users.csv", userRange(0, 30))
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	w := startWorker(t, dir, env, "run", "--csv", list, "--report", "r.csv", "--daily-budget", "3", "--rate", "100",
		"--workers", "4", "--yes", "--log-format", "text")
	require.Eventually(t, func() bool { return strings.Contains(w.stderr.String(), "daily budget spent: stopping") },
		20*time.Second, 20*time.Millisecond, w.stderr.String())
	require.NoError(t, w.cmd.Process.Signal(os.Interrupt))
	time.Sleep(200 * time.Millisecond) // two signals, as two Ctrl-C
	require.NoError(t, w.cmd.Process.Signal(os.Interrupt))
	require.True(t, w.exitedWithin(30*time.Second), w.stderr.String())
	out := w.stderr.String()
	t.Logf("exit %d; summary:\n%s", w.code, out[strings.Index(out, "summary: "):])
	require.Equal(t, 3, w.code, "a signal's stop: %s", out)
	require.Contains(t, out, "summary: 3 users may have been sent a code but have no row")
	require.Contains(t, out, "30 of 30 rows left, 3 may have been sent (above), the others not attempted (no row)")
	require.Contains(t, out, "exit 3: stopped by a signal while stopping at the budget")
	require.Regexp(t, `summary: 0 rows \[\] in \d+ms; 3 Cognito attempts, too short for a rate, 0 throttled`, out)
}

// TestDailyRunMovesItsResetWithoutSkippingADay: a daily CronJob sends every day, so no
// send is ever 24 h old (trial 4: the reset could never move without a skipped day).
// Yesterday's run sent in yesterday's window of 00:00; today's run, moved to after a later
// reset, is accepted: its window begins after that window ended.
func TestDailyRunMovesItsResetWithoutSkippingADay(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	now := time.Now().UTC()
	midnight := now.Truncate(24 * time.Hour)
	at := midnight.Add(now.Sub(midnight) / 2).Truncate(time.Minute) // a reset between 00:00 and now
	if !at.After(midnight) {
		t.Skip("too close after 00:00 UTC for a reset between it and now")
	}
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	list := writeUsers(t, dir, "users.csv", userRange(0, 30))
	report := filepath.Join(dir, "r.csv")
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	base := []string{"run", "--csv", list, "--report", "r.csv", "--rate", "100", "--log-format", "text", "--daily-budget", "3"}
	res := runBin(t, dir, env, "", base...)
	require.Equal(t, 4, res.code, res.stderr)
	_, rows := readCSVReport(t, report)
	for _, r := range rows { // yesterday's daily run, late in yesterday's window
		setFinishedAt(t, report, r["username"], midnight.Add(-time.Minute))
	}
	res = runBin(t, dir, env, "", append(base, "--resume", "--budget-reset", at.Format("15:04"))...)
	t.Logf("today's run, --budget-reset %s: exit %d\n%s", at.Format("15:04"), res.code, res.stderr)
	require.Equal(t, 4, res.code, res.stderr)
	require.EqualValues(t, 6, sim.Sim.Stats().Calls, "today's 3 sent")
	require.Contains(t, res.stderr, "the daily budget's reset moves")
	in, err := os.ReadFile(report + ".input")
	require.NoError(t, err)
	require.Contains(t, string(in), `"budget_reset":"`+at.Format("15:04")+`"`)
}
