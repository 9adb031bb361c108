package records

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// steppingClock moves a millisecond each time it is read: the durations the ledger
// measures on it are counts of its readings, the same on every machine.
type steppingClock struct{ *clockwork.FakeClock }

func (c steppingClock) Now() time.Time {
	c.Advance(time.Millisecond)
	return c.FakeClock.Now()
}

func (c steppingClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// The ledger counts its records and fsyncs, the time its groups took to write and sync,
// and the time the callers of Intend waited, on its own clock: a lone Intend waits for
// its group's fsync, so it waits longer than the group took.
func TestLedgerStatsCountRecordsSyncsAndWaits(t *testing.T) {
	t.Parallel()
	clk := steppingClock{clockwork.NewFakeClock()}
	l, err := OpenLedger(filepath.Join(t.TempDir(), "r.csv.ledger"), false, clk)
	require.NoError(t, err)
	for i := range 3 { // one at a time: a group each
		require.NoError(t, l.Intend(t.Context(), job.Job{Username: "u", SourceRef: string(rune('a' + i))}))
	}
	st := l.Stats()
	require.Equal(t, int64(3), st.Records)
	require.Equal(t, int64(3), st.Syncs)
	require.Positive(t, st.SyncTime)
	require.Greater(t, st.Waited, st.SyncTime, "each Intend waited for its group's write and fsync")

	l.Abandon(job.Job{Username: "u", SourceRef: "a"}) // written, not waited for
	require.NoError(t, l.Close())
	st2 := l.Stats()
	require.Equal(t, int64(4), st2.Records)
	require.Equal(t, st.Waited, st2.Waited, "nobody waits for an abandon")
}

// Concurrent intents share fsyncs: every record is counted once, in at most as many
// groups as records.
func TestLedgerStatsUnderConcurrentIntents(t *testing.T) {
	t.Parallel()
	l, err := OpenLedger(filepath.Join(t.TempDir(), "r.csv.ledger"), false, clock.Real())
	require.NoError(t, err)
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				require.NoError(t, l.Intend(t.Context(), job.Job{Username: "u", SourceRef: string(rune(w*each + i + 'A'))}))
			}
		})
	}
	wg.Wait()
	require.NoError(t, l.Close())
	st := l.Stats()
	require.Equal(t, int64(workers*each), st.Records)
	require.GreaterOrEqual(t, st.Syncs, int64(1))
	require.LessOrEqual(t, st.Syncs, st.Records)
}
