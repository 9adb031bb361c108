package reportset_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/reportset"
)

// finalStatus folds the rows of one user, given as files of rows, and returns the
// user's final status.
func finalStatus(t *testing.T, files ...[]job.Result) job.Status {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, rows := range files {
		ext := []string{".csv", ".jsonl"}[i%2]
		paths = append(paths, writeReport(t, dir, "r"+string(rune('0'+i))+ext, rows, ""))
	}
	set, err := reportset.Read(paths...)
	require.NoError(t, err)
	sum := set.Summary()
	require.Equal(t, 1, sum.Users)
	for st, n := range sum.Statuses {
		if n == 1 {
			return st
		}
	}
	t.Fatal("no status")
	return ""
}

func TestFoldRule(t *testing.T) {
	t.Parallel()
	failed, sent := row("u", job.StatusFailed, 10), row("u", job.StatusSent, 20)

	t.Run("greater finished_at wins, whatever the file order", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, job.StatusSent, finalStatus(t, []job.Result{sent}, []job.Result{failed}))
		require.Equal(t, job.StatusSent, finalStatus(t, []job.Result{failed}, []job.Result{sent}))
		require.Equal(t, job.StatusSent, finalStatus(t, []job.Result{sent, failed}))
	})
	t.Run("same finished_at: the later file, then the later line", func(t *testing.T) {
		t.Parallel()
		same := row("u", job.StatusFailed, 20)
		require.Equal(t, job.StatusFailed, finalStatus(t, []job.Result{sent}, []job.Result{same}))
		require.Equal(t, job.StatusSent, finalStatus(t, []job.Result{same}, []job.Result{sent}))
		require.Equal(t, job.StatusFailed, finalStatus(t, []job.Result{sent, same}))
	})
	t.Run("no finished_at is earlier than any", func(t *testing.T) {
		t.Parallel()
		undated := row("u", job.StatusFailed, 0)
		undated.StartedAt, undated.FinishedAt = time.Time{}, time.Time{}
		require.Equal(t, job.StatusSent, finalStatus(t, []job.Result{sent}, []job.Result{undated}))
	})
	t.Run("a duplicate never supersedes another status, and any status supersedes a duplicate", func(t *testing.T) {
		t.Parallel()
		dupLater := row("u", job.StatusDuplicate, 30)
		dupEarlier := row("u", job.StatusDuplicate, 5)
		require.Equal(t, job.StatusSent, finalStatus(t, []job.Result{sent, dupLater}))
		require.Equal(t, job.StatusFailed, finalStatus(t, []job.Result{dupLater}, []job.Result{failed}))
		require.Equal(t, job.StatusDuplicate, finalStatus(t, []job.Result{dupEarlier, dupLater}))
	})
	t.Run("usernames compare case-insensitively; the winning row's spelling is kept", func(t *testing.T) {
		t.Parallel()
		upper := row("U", job.StatusSent, 20)
		require.Equal(t, job.StatusSent, finalStatus(t, []job.Result{failed}, []job.Result{upper}))
	})
	t.Run("statuses are open: a newer version's status is a status", func(t *testing.T) {
		t.Parallel()
		later := row("u", "snoozed", 30)
		require.Equal(t, job.Status("snoozed"), finalStatus(t, []job.Result{sent}, []job.Result{later}))
	})
	t.Run("the ledger table's echoes of a send don't replace it", func(t *testing.T) {
		t.Parallel()
		for _, echo := range []job.Status{job.StatusRecentlySent, job.StatusUnknown} {
			require.Equal(t, job.StatusSent, finalStatus(t, []job.Result{sent}, []job.Result{row("u", echo, 30)}), echo)
			// The echo's report first on the command line (replica B's, then A's): the
			// send read second still counts — 381 sent where 383 codes went out, before.
			require.Equal(t, job.StatusSent, finalStatus(t, []job.Result{row("u", echo, 30)}, []job.Result{sent}), echo)
			require.Equal(t, job.StatusSent, finalStatus(t, []job.Result{row("u", echo, 30), sent}), echo)
			require.Equal(t, echo, finalStatus(t, []job.Result{failed}, []job.Result{row("u", echo, 30)}), echo)
		}
		require.Equal(t, job.StatusSent, finalStatus(t, []job.Result{row("u", job.StatusRecentlySent, 5)}, []job.Result{sent}),
			"a later send replaces an echo")
	})
}

func TestOpenStatusesAreCountedAndOrdered(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := writeReport(t, dir, "r.jsonl", []job.Result{
		row("a", "snoozed", 1), row("b", "paused", 2), row("c", "zz_future", 3), row("d", job.StatusSent, 4),
	}, "")
	set, err := reportset.Read(p)
	require.NoError(t, err)
	sum := set.Summary()
	require.Equal(t, 1, sum.Statuses["snoozed"])
	require.Equal(t, 1, sum.Statuses["paused"])
	require.Equal(t, 1, sum.Statuses["zz_future"])
	require.Equal(t, 0, sum.MalformedLines)
	order := sum.StatusOrder()
	require.Equal(t, job.Statuses, order[:len(job.Statuses)])
	require.Equal(t, []job.Status{"paused", "snoozed", "zz_future"}, order[len(job.Statuses):])
}
