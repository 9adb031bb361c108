package records_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/records"
)

// TestResumeStateBytesPerLine: what a resumed CSV campaign keeps of its report grows by
// a few bytes a line — a hash per user (the admit rule's final users), a tag and a
// fingerprint per line — not by the rows' text (a tally keyed by source ref held every
// row's line, ~240 bytes each: 2.4 GB at 10 M rows). Not parallel: it reads the heap.
func TestResumeStateBytesPerLine(t *testing.T) {
	const rows = 200_000
	p := filepath.Join(t.TempDir(), "r.csv")
	f, err := os.Create(p)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, strings.Join(records.Columns, ","))
	for i := range rows {
		fmt.Fprintf(w, "user-%07d,sent,1,,,EMAIL,u***@e***.com,email,req-%d,%d,2026-12-05T03:08:47Z,2026-12-05T03:08:47Z\n",
			i, i, i+2)
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())

	before := liveHeap()
	st, err := records.LoadResume(p, records.ResumeOptions{CSVLines: true})
	require.NoError(t, err)
	held := float64(liveHeap()-before) / rows
	require.Equal(t, rows, st.Rows)
	require.Equal(t, rows, st.Lines())
	require.Equal(t, rows, st.Tally.Counts["sent"])
	t.Logf("resume state: %.1f bytes a line", held)
	require.Less(t, held, 40.0, "bytes a line")
	runtime.KeepAlive(st)
}

func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
