package records_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
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
	require.False(t, retry.Done("m6"))
	require.True(t, retry.Retrying("m6"))
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

// reportRow is a CSV report line: user, status, line, finished_at.
func reportRow(user string, st job.Status, line int, finished time.Time) string {
	attempts, code := 1, ""
	switch st {
	case job.StatusDuplicate:
		attempts = 0
	case job.StatusInvalidInput:
		attempts, code = 0, "InvalidInput"
	case job.StatusUnknown:
		attempts, code = 0, "Unknown"
	}
	ts := finished.UTC().Format(time.RFC3339Nano)
	return fmt.Sprintf("%s,%s,%d,%s,,,,,,%d,%s,%s", user, st, attempts, code, line, ts, ts)
}

// The supersede rule: the latest row of a line (and of a user) by file order is the one
// that counts, for what is skipped, who is final, what --retry-failed calls and the
// counts.
func TestResumeSupersedeRule(t *testing.T) {
	t.Parallel()

	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	p := writeReport(t,
		reportRow("alice", job.StatusFailed, 2, ago(5*time.Hour)),
		reportRow("bob", job.StatusFailed, 3, ago(5*time.Hour)),
		reportRow("carol", job.StatusLimitExceeded, 4, ago(2*time.Hour)),
		reportRow("dave", job.StatusFailed, 5, ago(5*time.Hour)),
		reportRow("erin", job.StatusUnknown, 6, ago(5*time.Hour)),
		reportRow("frank", job.StatusLimitExceeded, 7, ago(3*time.Hour)),
		reportRow("gina", job.StatusLimitExceeded, 8, ago(10*time.Minute)),
		reportRow("DAVE", job.StatusDuplicate, 9, ago(5*time.Hour)),
		reportRow("x y", job.StatusInvalidInput, 10, ago(5*time.Hour)),
		// a second run, --retry-failed and --retry-unknown
		reportRow("alice", job.StatusSent, 2, ago(4*time.Hour)),
		reportRow("erin", job.StatusFailed, 6, ago(4*time.Hour)),
		reportRow("frank", job.StatusLimitExceeded, 7, ago(20*time.Minute)),
	)

	st, err := records.LoadResume(p, records.ResumeOptions{RetryFailed: true, Now: now})
	require.NoError(t, err)
	require.Equal(t, 12, st.Rows)
	require.Equal(t, 9, st.Lines())
	require.Equal(t, map[job.Status]int{job.StatusSent: 1, job.StatusFailed: 3, job.StatusLimitExceeded: 3,
		job.StatusDuplicate: 1, job.StatusInvalidInput: 1, job.StatusUnknown: 0}, st.Tally.Counts,
		"each line once, by its latest row")
	for ref, want := range map[string]string{
		"2":  "done",  // failed, then sent
		"3":  "retry", // failed
		"4":  "retry", // limit_exceeded 2 h ago
		"5":  "retry", // failed; its duplicate on line 9 doesn't settle dave
		"6":  "retry", // unknown, then failed: the latest row wins
		"7":  "done",  // limit_exceeded 3 h ago, then 20 min ago: waits
		"8":  "done",  // limit_exceeded 10 min ago
		"9":  "done",  // the duplicate row itself
		"10": "done",
		"11": "new",
	} {
		got := "new"
		switch {
		case st.Done(ref):
			got = "done"
		case st.Retrying(ref):
			got = "retry"
		}
		require.Equal(t, want, got, "line %s", ref)
	}
	require.Equal(t, 4, st.Retry)
	require.Equal(t, 2, st.LimitWaiting, "frank and gina wait out their hour")
	require.Equal(t, ago(10*time.Minute).Add(job.LimitWindow), st.LimitDue, "the last of them")
	for user, final := range map[string]bool{"alice": true, "bob": false, "carol": false, "dave": false,
		"erin": false, "frank": true, "gina": true} {
		require.Equal(t, final, st.Final.Has(user), user)
	}
	tag, _ := st.Final.Get("alice")
	require.Equal(t, uint32(2), tag, "a duplicate of alice names line 2")

	// Without --retry-failed every row is final, and the latest row still counts.
	plain, err := records.LoadResume(p, records.ResumeOptions{Now: now})
	require.NoError(t, err)
	require.Equal(t, st.Tally.Counts, plain.Tally.Counts)
	require.Zero(t, plain.Retry)
	for _, ref := range []string{"2", "3", "4", "5", "6", "7", "8", "9", "10"} {
		require.True(t, plain.Done(ref), "line %s", ref)
	}
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin", "frank", "gina"} {
		require.True(t, plain.Final.Has(u), u)
	}

	// The rows a resumed run writes supersede the same way.
	st.Record(job.Result{Username: "bob", Status: job.StatusSent, SourceRef: "3", Attempts: 1, FinishedAt: now})
	st.Record(job.Result{Username: "carol", Status: job.StatusLimitExceeded, SourceRef: "4", Attempts: 1, FinishedAt: now})
	st.Record(job.Result{Username: "henry", Status: job.StatusFailed, SourceRef: "11", Attempts: 1, FinishedAt: now})
	require.Equal(t, 2, st.Tally.Counts[job.StatusSent])
	require.Equal(t, 3, st.Tally.Counts[job.StatusFailed], "bob's failed superseded, henry's added")
	require.Equal(t, 3, st.Tally.Counts[job.StatusLimitExceeded])
	require.Equal(t, 3, st.LimitWaiting)
	require.Equal(t, now.Add(job.LimitWindow), st.LimitDue)
	require.True(t, st.Final.Has("bob"))
	require.True(t, st.Final.Has("carol"))
	// A waiting line superseded (here: recorded again) is counted once.
	st.Record(job.Result{Username: "gina", Status: job.StatusSent, SourceRef: "8", Attempts: 1, FinishedAt: now})
	require.Equal(t, 2, st.LimitWaiting)
}

// Intents pair with the rows that closed them, line by line: a line retried by
// --retry-failed has one start record per call, and only a start without its row is
// `unknown`.
func TestLoadResumePairsIntentsWithRows(t *testing.T) {
	t.Parallel()

	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t0 := now.Add(-2 * time.Hour)
	p := writeReport(t,
		reportRow("a", job.StatusFailed, 2, t0), // run 1
		reportRow("b", job.StatusFailed, 3, t0),
		reportRow("c", job.StatusFailed, 4, t0),
		reportRow("d", job.StatusDuplicate, 5, t0),
		reportRow("a", job.StatusFailed, 2, t0), // run 2 (--retry-failed): a failed again, b was killed
	)
	start := func(u string, ref int) string {
		return fmt.Sprintf(`{"event":"start","username":%q,"source_ref":"%d"}`, u, ref)
	}
	abandon := func(u string, ref int) string {
		return fmt.Sprintf(`{"event":"abandon","username":%q,"source_ref":"%d"}`, u, ref)
	}
	require.NoError(t, os.WriteFile(records.LedgerPath(p), []byte(strings.Join([]string{
		start("a", 2), start("b", 3), start("c", 4), // run 1
		start("c", 4), abandon("c", 4), // run 2: c given back before its call
		start("a", 2), start("b", 3), // run 2: a called, b killed mid-call
		start("d", 5), // a duplicate's line never has an intent; one there has no row of its own
	}, "\n")+"\n"), 0o600))

	st, err := records.LoadResume(p, records.ResumeOptions{RetryFailed: true, Now: now})
	require.NoError(t, err)
	var unknown []string
	for _, u := range st.Unknown {
		unknown = append(unknown, u.Username+"@"+u.SourceRef)
	}
	require.Equal(t, []string{"b@3", "d@5"}, unknown)
	require.True(t, st.Retrying("2"), "a: two calls, two rows")
	require.True(t, st.Retrying("4"), "c: its second start was abandoned")
}

// TestResumeCountFoldsRedeliveries: a queue worker's rows are counted by Count under
// the supersede rule against the rows of the report it resumed: a message redelivered
// after its `sent` row (reported `duplicate`) is not counted again, a retried message
// replaces its `failed` row, a new message adds one.
func TestResumeCountFoldsRedeliveries(t *testing.T) {
	t.Parallel()
	p := writeReport(t,
		"a,sent,1,,,EMAIL,x,email,,m1,,",
		"b,failed,8,TooManyRequestsException,gave up,,,,,m2,,",
	)
	st, err := records.LoadResume(p, records.ResumeOptions{Redelivers: true})
	require.NoError(t, err)
	require.Equal(t, 2, st.Tally.Rows)
	st.Count(job.Result{Username: "a", SourceRef: "m1", Status: job.StatusDuplicate})
	st.Count(job.Result{Username: "b", SourceRef: "m2", Status: job.StatusSent})
	st.Count(job.Result{Username: "c", SourceRef: "m3", Status: job.StatusSent})
	require.Equal(t, 3, st.Tally.Rows)
	require.Equal(t, map[job.Status]int{job.StatusSent: 3, job.StatusFailed: 0}, st.Tally.Counts)
}

// TestLoadResumeCountsTheWindowsSends: a restart knows what the current window has
// spent: the sent and unknown rows finished since the window began, by their timestamps.
func TestLoadResumeCountsTheWindowsSends(t *testing.T) {
	t.Parallel()
	p := writeReport(t,
		"old,sent,1,,,,,,,1,2026-12-04T23:59:00Z,2026-12-04T23:59:59Z",
		"a,sent,1,,,,,,,2,2026-12-05T00:00:00Z,2026-12-05T00:00:00Z",
		"b,sent,1,,,,,,,3,2026-12-05T08:00:00Z,2026-12-05T08:00:01Z",
		"c,unknown,0,Unknown,,,,,,4,2026-12-05T08:00:00Z,2026-12-05T08:00:01Z",
		"d,user_not_found,1,,,,,,,5,2026-12-05T08:00:00Z,2026-12-05T08:00:01Z",
		"e,limit_exceeded,1,,,,,,,6,2026-12-05T08:00:00Z,2026-12-05T08:00:01Z",
	)
	st, err := records.LoadResume(p, records.ResumeOptions{Window: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Equal(t, 3, st.WindowSent)
	none, err := records.LoadResume(p, records.ResumeOptions{})
	require.NoError(t, err)
	require.Zero(t, none.WindowSent, "no budget: nothing counted")
}

// An intent records which message its call was to send; its `unknown` row says it. An
// intent of an older ledger, without it, reads back as no message.
func TestUnknownRowKeepsTheMessage(t *testing.T) {
	t.Parallel()
	var rec records.LedgerRecord
	require.NoError(t, json.Unmarshal([]byte(`{"event":"start","username":"adam","source_ref":"adam","at":"x","message":"invitation"}`), &rec))
	require.Equal(t, job.MessageInvitation, records.UnknownResult(rec, clock.Real()).Message)
	rec = records.LedgerRecord{}
	require.NoError(t, json.Unmarshal([]byte(`{"event":"start","username":"ann","source_ref":"2","at":"x"}`), &rec))
	require.Equal(t, job.Message(""), records.UnknownResult(rec, clock.Real()).Message)
}
