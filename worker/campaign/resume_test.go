package campaign

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/records"
)

// priorReports finds the reports a run from an input would repeat: the same bytes
// first (records.ReportsOf); else the same CSV path whose bytes changed since, newest
// first, grown by lines at its end (not edited or replaced); never another path, standard input or a pool
// other than its own.
func TestPriorReports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csv := filepath.Join(dir, "b.csv")
	write := func(body string) records.Input {
		require.NoError(t, os.WriteFile(csv, []byte(body), 0o600))
		in, err := records.CSVInput(csv)
		require.NoError(t, err)
		return in
	}
	report := func(name string, in records.Input, at time.Time) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("username\n"), 0o600))
		require.NoError(t, records.WriteInput(p, in, at, true))
	}
	t0 := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	first := write("username\na\nb\n")
	report("old.csv", first, t0)
	require.Equal(t, prior{found: []string{filepath.Join(dir, "old.csv")}, what: "the same CSV (same SHA-256 digest)"},
		priorReports(dir, first))

	grown := write("username\na\nb\nc\n")
	p := priorReports(dir, grown)
	require.True(t, p.grown)
	require.Equal(t, []string{filepath.Join(dir, "old.csv")}, p.found)
	require.Equal(t, "the same CSV path ("+csv+"), which has grown since it was made (13 bytes then, 15 now: "+
		"lines were added at its end)", p.what)

	// Newest first, when several campaigns of the path are grown into this one.
	report("newer.csv", write("username\na\nb\nc\n"), t0.Add(time.Hour))
	p = priorReports(dir, write("username\na\nb\nc\nd\n"))
	require.Equal(t, []string{filepath.Join(dir, "newer.csv"), filepath.Join(dir, "old.csv")}, p.found, "newest first")
	require.Contains(t, sameInputMsg("typo.csv", p), " (and 1 more: "+filepath.Join(dir, "old.csv")+")")

	// A list replaced or edited in place at the path is another campaign's: not refused.
	require.Equal(t, prior{}, priorReports(dir, write("username\nA\nb\nc\n")), "edited in place")
	require.Equal(t, prior{}, priorReports(dir, write("username\nx\ny\n")), "replaced (the Job's next ConfigMap)")

	other := filepath.Join(dir, "other.csv")
	require.NoError(t, os.WriteFile(other, []byte("username\nq\n"), 0o600))
	in, err := records.CSVInput(other)
	require.NoError(t, err)
	require.Equal(t, prior{}, priorReports(dir, in), "another path: the digests alone decide")
	require.Equal(t, prior{}, priorReports(dir, records.Input{Source: records.InputCSV, CSV: "-"}))
	require.Equal(t, prior{}, priorReports(dir, records.Input{Source: records.InputPool, UserPoolID: "us-east-1_X"}))

	report("pool.csv", records.Input{Source: records.InputPool, UserPoolID: "us-east-1_X"}, t0)
	require.Equal(t, prior{found: []string{filepath.Join(dir, "pool.csv")}, what: "the same user pool us-east-1_X"},
		priorReports(dir, records.Input{Source: records.InputPool, UserPoolID: "us-east-1_X"}))
}
