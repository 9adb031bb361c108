package records_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// formulaLead reports whether a spreadsheet would read a cell as a formula (OWASP).
func formulaLead(cell string) bool {
	return cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0]))
}

func TestSheetCellRoundTrips(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"", "bob", "=1+1", "+1", "-x", "@SUM(1+1)", "\tx", "\rx", "'", "''", "'bob",
		"'=x", "''=x", "'''", "a=b", "=", "'@", "José", "'\t"} {
		cell := records.SheetCell(v)
		require.False(t, formulaLead(cell), "%q is written as %q", v, cell)
		require.Equal(t, v, records.SheetValue(cell), "%q", v)
	}
	require.Equal(t, "'@SUM(1+1)", records.SheetCell("@SUM(1+1)"))
	require.Equal(t, "''bob", records.SheetCell("'bob"))
	require.Equal(t, "'bob", records.SheetValue("'bob"), "a cell the rule did not write is its own value")
}

func FuzzSheetRoundTrip(f *testing.F) {
	for _, s := range []string{"", "=", "'=", "''", "@a", "\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cell := records.SheetCell(v)
		if formulaLead(cell) || records.SheetValue(cell) != v {
			t.Fatalf("%q → %q → %q", v, cell, records.SheetValue(cell))
		}
	})
}

// The CSV report writes every cell under the rule and reads every row back exactly;
// the JSONL report, for programs, is written as is.
func TestReportCSVIsSpreadsheetSafe(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.csv")
	w, err := records.OpenReport(path, false)
	require.NoError(t, err)
	rows := []job.Result{
		{Username: "@SUM(1+1)", Status: job.StatusSent, Attempts: 1, DeliveryMedium: "SMS", Destination: "+*******0100",
			AttributeName: "phone_number", SourceRef: "2", StartedAt: clockStart, FinishedAt: clockStart},
		{Username: "'=x", Status: job.StatusFailed, Attempts: 2, ErrorCode: "Error", ErrorMessage: "-oops, =2",
			SourceRef: "3", StartedAt: clockStart, FinishedAt: clockStart},
	}
	for _, r := range rows {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close())
	var got []job.Result
	_, _, err = records.ReadRows(path, func(r job.Result) { got = append(got, r) })
	require.NoError(t, err)
	require.Equal(t, rows, got)

	raw := readFile(t, path)
	for _, line := range strings.Split(strings.TrimSpace(raw), "\n") {
		for _, cell := range strings.Split(line, ",") {
			require.False(t, formulaLead(strings.Trim(cell, `"`)), "cell %q of %q", cell, line)
		}
	}
	require.Contains(t, raw, "'@SUM(1+1),sent,")
	require.Contains(t, raw, ",'+*******0100,")
	require.Contains(t, raw, "''=x,failed,")
}
