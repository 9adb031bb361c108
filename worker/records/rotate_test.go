package records_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// rotFixture is a report + ledger with rotation, as queue mode wires them.
type rotFixture struct {
	dir, path string
	clock     *clockwork.FakeClock
	ledger    *records.IntentLog
	report    *records.RotatingReport
}

func newRotFixture(t *testing.T, name string, maxSize int64, keep int) *rotFixture {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, name)
	clock := newFakeClock()
	w, err := records.OpenReport(path, false)
	require.NoError(t, err)
	l, err := records.OpenLedger(records.LedgerPath(path), false, clock)
	require.NoError(t, err)
	rr, err := records.NewRotatingReport(path, w, records.RotateOptions{MaxSize: maxSize, Keep: keep,
		Journal: l, Clock: clock})
	require.NoError(t, err)
	return &rotFixture{dir: dir, path: path, clock: clock, ledger: l, report: rr}
}

func (f *rotFixture) close(t *testing.T) {
	t.Helper()
	require.NoError(t, f.ledger.Close())
	require.NoError(t, f.report.Close())
}

func rotJob(i int) job.Job {
	return job.Job{Username: fmt.Sprintf("user-%04d", i), SourceRef: fmt.Sprintf("ref-%04d", i)}
}

// one runs job i through the ledger and the report the way the engine does.
func (f *rotFixture) one(t *testing.T, i int) {
	t.Helper()
	j := rotJob(i)
	require.NoError(t, f.ledger.Intend(t.Context(), j))
	require.NoError(t, f.report.Write(sent(j)))
}

// pair is one report file and its ledger.
type pair struct {
	report, ledger string
	rows           []string // source refs, in file order
	starts         map[string]bool
}

// pairs lists the current and rotated pairs in dir, current last.
func pairs(t *testing.T, dir, current string) []pair {
	t.Helper()
	var reports []string
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		name := e.Name()
		require.NotContains(t, name, ".rotating", "no temporary file left behind")
		if strings.HasSuffix(name, ".ledger") {
			_, err := os.Stat(filepath.Join(dir, strings.TrimSuffix(name, ".ledger")))
			require.NoError(t, err, "ledger %s has its report", name)
			continue
		}
		if filepath.Join(dir, name) != current {
			reports = append(reports, filepath.Join(dir, name))
		}
	}
	sort.Slice(reports, func(i, j int) bool { return rotatedKey(reports[i]) < rotatedKey(reports[j]) })
	reports = append(reports, current)
	var out []pair
	for _, r := range reports {
		p := pair{report: r, ledger: records.LedgerPath(r), starts: map[string]bool{}}
		for _, f := range []string{p.report, p.ledger} {
			st, err := os.Stat(f)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
		}
		p.rows = reportRefs(t, r)
		for _, line := range fileLines(t, p.ledger) {
			var rec records.LedgerRecord
			require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
			if rec.Event == records.LedgerStart {
				p.starts[rec.SourceRef] = true
			}
		}
		out = append(out, p)
	}
	return out
}

var rotatedRe = regexp.MustCompile(`-(\d{8}T\d{6}Z)(?:-(\d+))?\.[a-z]+$`)

// rotatedKey orders rotated names by time, then counter.
func rotatedKey(path string) string {
	m := rotatedRe.FindStringSubmatch(path)
	if m == nil {
		return path
	}
	n, _ := strconv.Atoi(m[2])
	return fmt.Sprintf("%s-%09d", m[1], n)
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	return lines
}

// reportRefs reads a report's source refs, checking the CSV header is its first line.
func reportRefs(t *testing.T, path string) []string {
	t.Helper()
	var refs []string
	if strings.HasSuffix(path, ".jsonl") {
		for _, line := range fileLines(t, path) {
			var row map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &row))
			refs = append(refs, row["source_ref"].(string))
		}
		return refs
	}
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs, "%s has its header", path)
	require.Equal(t, records.Columns, recs[0], "%s starts with the header", path)
	for _, r := range recs[1:] {
		refs = append(refs, r[9])
	}
	return refs
}

func TestRotatingReportSplitsRowsExactlyOnce(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"r.csv", "r.jsonl"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const n, maxSize = 400, 4096
			f := newRotFixture(t, name, maxSize, 1000)
			for i := range n {
				f.one(t, i)
				if i%7 == 6 {
					require.NoError(t, f.report.Sync())
				}
				if i%50 == 49 {
					f.clock.Advance(time.Second)
				}
			}
			require.NoError(t, f.report.Sync())
			f.close(t)

			ps := pairs(t, f.dir, f.path)
			require.Len(t, ps, f.report.Rotations()+1)
			require.GreaterOrEqual(t, f.report.Rotations(), 5)
			seen := map[string]int{}
			var order []string
			for i, p := range ps {
				if i < len(ps)-1 {
					st, err := os.Stat(p.report)
					require.NoError(t, err)
					require.GreaterOrEqual(t, st.Size(), int64(maxSize), "rotated only once full: %s", p.report)
					require.Less(t, st.Size(), int64(2*maxSize), "rotated at the first group boundary past the size: %s", p.report)
					require.Regexp(t, `/r-20250304T0506\d\dZ(-\d+)?\.(csv|jsonl)$`, p.report)
				}
				for _, ref := range p.rows {
					seen[ref]++
					order = append(order, ref)
					// Each pair stands alone: a row's intent is in its own ledger (carried
					// over when the call started before the rotation).
					require.True(t, p.starts[ref], "%s: row %s has its start in %s", p.report, ref, p.ledger)
				}
			}
			require.Len(t, seen, n)
			for ref, c := range seen {
				require.Equal(t, 1, c, "one row for %s across all files", ref)
			}
			for i, ref := range order {
				require.Equal(t, rotJob(i).SourceRef, ref, "rows in write order across the files")
			}
		})
	}
}

func TestRotatingReportKeepDeletesOldestPairs(t *testing.T) {
	t.Parallel()
	const n = 600
	f := newRotFixture(t, "r.csv", 2048, 3)
	for i := range n {
		f.one(t, i)
		if i%10 == 9 {
			require.NoError(t, f.report.Sync())
			f.clock.Advance(300 * time.Millisecond)
		}
	}
	require.NoError(t, f.report.Sync())
	f.close(t)
	require.Greater(t, f.report.Rotations(), 5)

	ps := pairs(t, f.dir, f.path)
	require.Len(t, ps, 3+1, "3 rotated pairs and the current one")
	var refs []string
	for _, p := range ps {
		refs = append(refs, p.rows...)
	}
	// What is left is the newest rows, a contiguous tail ending with the last one.
	first := n - len(refs)
	require.Positive(t, first)
	for i, ref := range refs {
		require.Equal(t, rotJob(first+i).SourceRef, ref)
	}
}

func TestRotatingReportKeepZero(t *testing.T) {
	t.Parallel()
	f := newRotFixture(t, "r.csv", 1024, 0)
	for i := range 100 {
		f.one(t, i)
		require.NoError(t, f.report.Sync())
	}
	f.close(t)
	require.Positive(t, f.report.Rotations())
	ps := pairs(t, f.dir, f.path)
	require.Len(t, ps, 1, "only the current pair")
}

func TestRotatingReportNeverOverwrites(t *testing.T) {
	t.Parallel()
	f := newRotFixture(t, "r.csv", 1024, 100)
	stamp := clockStart.Format("20060102T150405Z")
	// Someone else's files hold the first names: a report, and the ledger of the next.
	taken := filepath.Join(f.dir, "r-"+stamp+".csv")
	require.NoError(t, os.WriteFile(taken, []byte("foreign\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "r-"+stamp+"-1.csv.ledger"), []byte("foreign\n"), 0o600))

	fill := func(from int) {
		for i := from; i < from+20; i++ {
			f.one(t, i)
		}
		require.NoError(t, f.report.Sync())
	}
	fill(0)
	fill(20) // same second: needs another counter
	require.Equal(t, 2, f.report.Rotations())
	for _, name := range []string{"r-" + stamp + "-2.csv", "r-" + stamp + "-3.csv"} {
		p := filepath.Join(f.dir, name)
		require.FileExists(t, p)
		require.FileExists(t, records.LedgerPath(p))
	}
	b, err := os.ReadFile(taken)
	require.NoError(t, err)
	require.Equal(t, "foreign\n", string(b))
	b, err = os.ReadFile(filepath.Join(f.dir, "r-"+stamp+"-1.csv.ledger"))
	require.NoError(t, err)
	require.Equal(t, "foreign\n", string(b))
	require.NoFileExists(t, filepath.Join(f.dir, "r-"+stamp+"-1.csv"))
	f.close(t)
	require.Equal(t, []string{rotJob(0).SourceRef}, reportRefs(t, filepath.Join(f.dir, "r-"+stamp+"-2.csv"))[:1])
}

// An intent whose row is not written yet moves to the fresh ledger: a --resume reading
// only the current pair still sees it (unknown if the row never comes), and an abandoned
// one is not carried.
func TestRotatingReportCarriesPendingIntents(t *testing.T) {
	t.Parallel()
	f := newRotFixture(t, "r.csv", 1024, 100)
	inFlight, abandoned, later := rotJob(1000), rotJob(1001), rotJob(1002)
	ctx := t.Context()
	require.NoError(t, f.ledger.Intend(ctx, inFlight))
	require.NoError(t, f.ledger.Intend(ctx, abandoned))
	require.NoError(t, f.ledger.Intend(ctx, later))
	f.ledger.Abandon(abandoned)
	// A redelivery of the in-flight message, reported duplicate, doesn't settle it.
	require.NoError(t, f.report.Write(job.Result{Username: inFlight.Username, SourceRef: inFlight.SourceRef,
		Status: job.StatusDuplicate}))
	for i := range 20 {
		f.one(t, i)
	}
	require.NoError(t, f.report.Sync())
	require.Equal(t, 1, f.report.Rotations())
	require.NoError(t, f.report.Write(sent(later)))
	require.NoError(t, f.report.Sync())
	f.close(t)

	st, err := records.LoadResume(f.path, records.ResumeOptions{Redelivers: true})
	require.NoError(t, err)
	require.Equal(t, 1, st.Rows)
	require.Len(t, st.Unknown, 1)
	require.Equal(t, inFlight.SourceRef, st.Unknown[0].SourceRef)
	require.True(t, st.Final.Has(later.Username))

	starts := pairs(t, f.dir, f.path)[1].starts
	require.Equal(t, map[string]bool{inFlight.SourceRef: true, later.SourceRef: true}, starts)
}

func TestRotatingReportOffNeverRotates(t *testing.T) {
	t.Parallel()
	f := newRotFixture(t, "r.csv", 0, 1)
	for i := range 200 {
		f.one(t, i)
		require.NoError(t, f.report.Sync())
	}
	f.close(t)
	require.Zero(t, f.report.Rotations())
	require.Len(t, pairs(t, f.dir, f.path), 1)
}

// Intents recorded from many goroutines while the ledger rotates again and again are all
// durable, none written to a closed file.
func TestLedgerRotateUnderConcurrentIntents(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv.ledger")
	l, err := records.OpenLedger(path, false, clock.Real())
	require.NoError(t, err)
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				assert.NoError(t, l.Intend(context.Background(), rotJob(w*each+i)))
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	rotations := 0
	for stop := false; !stop; {
		select {
		case <-done:
			stop = true
		default:
		}
		require.NoError(t, l.Rotate(filepath.Join(dir, fmt.Sprintf("old-%05d.ledger", rotations))))
		rotations++
	}
	require.NoError(t, l.Close())
	require.ErrorContains(t, l.Rotate(filepath.Join(dir, "after-close")), "closed")

	seen := map[string]bool{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, rotations+1)
	for _, e := range entries {
		for _, line := range fileLines(t, filepath.Join(dir, e.Name())) {
			var rec records.LedgerRecord
			require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
			seen[rec.SourceRef] = true
		}
	}
	require.Len(t, seen, writers*each)
}

var _ io.Closer = (*records.RotatingReport)(nil)
