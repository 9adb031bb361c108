package records_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// What the writer writes, the one line parser reads back, every column of it.
func TestParseLineReadsWhatTheWriterWrites(t *testing.T) {
	t.Parallel()
	in := sampleResult()
	in.ErrorMessage = "bad, \"quoted\" message" // the writer keeps a row on one line
	in.StartedAt, in.FinishedAt = in.StartedAt.UTC(), in.FinishedAt.UTC()
	in.Class, in.Fix, in.Ambiguous = 0, "", false // not in the report
	for _, format := range []records.Format{records.FormatCSV, records.FormatJSONL} {
		var b bytes.Buffer
		w, err := records.NewWriter(&b, format)
		require.NoError(t, err)
		require.NoError(t, w.Write(in))
		require.NoError(t, w.Close())
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		last := []byte(strings.TrimRight(lines[len(lines)-1], "\r"))
		row, ok := records.ParseLine(format, last)
		require.True(t, ok, format)
		require.Equal(t, in, row, format)
		if format == records.FormatCSV {
			_, ok := records.ParseLine(format, []byte(lines[0]))
			require.False(t, ok, "the header is not a row")
		}
	}
	for _, bad := range []string{`alice,sen`, `alice,pending,1,,,,,,,2,,`, ``} {
		_, ok := records.ParseLine(records.FormatCSV, []byte(bad))
		require.False(t, ok, bad)
	}
	_, ok := records.ParseLine(records.FormatJSONL, []byte(`{"username":"a","status":"sent","attempts":"x"}`))
	require.False(t, ok)
}

func TestReadRows(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "r.csv")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(records.Columns, ",")+"\n"+
		"a,sent,1,,,,,,,2,2026-01-01T00:00:00Z,\n"+"torn,se\n"+"b,failed,8,X,,,,,,3,,\n"), 0o600))
	var got []job.Result
	rows, skipped, err := records.ReadRows(p, func(r job.Result) { got = append(got, r) })
	require.NoError(t, err)
	require.Equal(t, 2, rows)
	require.Equal(t, 1, skipped)
	require.Equal(t, []string{"a", "b"}, []string{got[0].Username, got[1].Username})
	require.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), got[0].StartedAt)
	require.Equal(t, 8, got[1].Attempts)
}

// ScanReport: every line with its number, statuses open (a newer version's read as
// written), the header and a torn last line told apart. ParseLine and ReadRows (resume)
// still take only the statuses this version knows.
func TestScanReport(t *testing.T) {
	t.Parallel()
	header := strings.Join(records.Columns, ",")
	p := filepath.Join(t.TempDir(), "r.csv")
	require.NoError(t, os.WriteFile(p, []byte(header+"\n"+
		"a,sent,1,,,,,,,2,,\n"+
		"\n"+ // blank: counted, not passed
		"b,snoozed,0,,,,,,,3,,\n"+
		header+"\n"+ // a second header (two files concatenated) is not a row
		"c,Sent OK,1,,,,,,,4,,\n"+ // not status-shaped
		"d,failed,2,X,,,,,,5,,"), 0o600)) // the last line, no newline: torn, yet complete
	var lines []records.Line
	require.NoError(t, records.ScanReport(p, func(l records.Line) { lines = append(lines, l) }))
	require.Len(t, lines, 6)
	require.True(t, lines[0].Header)
	require.Equal(t, []int{1, 2, 4, 5, 6, 7}, []int{lines[0].N, lines[1].N, lines[2].N, lines[3].N, lines[4].N, lines[5].N})
	require.True(t, lines[1].OK)
	require.True(t, lines[2].OK)
	require.Equal(t, job.Status("snoozed"), lines[2].Row.Status)
	require.False(t, lines[3].OK, "a header in the middle")
	require.False(t, lines[4].OK, "a status that is not a status word")
	require.True(t, lines[5].OK)
	require.True(t, lines[5].Torn)
	require.False(t, lines[4].Torn)

	_, ok := records.ParseLine(records.FormatCSV, []byte("b,snoozed,0,,,,,,,3,,"))
	require.False(t, ok, "resume takes only known statuses")
	rows, skipped, err := records.ReadRows(p, func(job.Result) {})
	require.NoError(t, err)
	require.Equal(t, 2, rows)
	require.Equal(t, 3, skipped)

	err = records.ScanReport(filepath.Join(t.TempDir(), "r.txt"), func(records.Line) {})
	require.ErrorContains(t, err, "extension")
}

// The comma split of a line without quotes reads what encoding/csv reads.
func TestCSVFastPathMatchesEncodingCSV(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		"a,sent,1,,,EMAIL,a***@e***,email,req,2,2026-01-01T00:00:00Z,2026-01-01T00:00:01Z",
		" spaced ,sent,1,,, x ,,,,2,,",
		"a,failed,2,X,msg with\ttab,,,,,3,,",
		`a,failed,2,X,"quoted, comma",,,,,3,,`,
		`a,failed,2,X,"say ""hi""",,,,,3,,`,
	} {
		want, err := csv.NewReader(strings.NewReader(line)).Read()
		require.NoError(t, err)
		row, ok := records.ParseLine(records.FormatCSV, []byte(line))
		require.True(t, ok, line)
		require.Equal(t, want[0], row.Username)
		require.Equal(t, want[1], string(row.Status), line)
		require.Equal(t, want[4], row.ErrorMessage, line)
		require.Equal(t, want[5], row.DeliveryMedium, line)
	}
}
