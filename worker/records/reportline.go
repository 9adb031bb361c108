package records

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// The report reader: one parser for every program that reads reports back (resume and
// the report tooling). Every line is parsed on its own, so a line torn by kill -9 is
// skipped without swallowing its neighbours.

// ParseLine reads one report line (without its newline) into the row it records. ok is
// false for a line that is not a row of ours: torn, foreign, a CSV header, or a status
// this version does not know (resume must not guess what a newer version meant).
func ParseLine(format Format, line []byte) (row job.Result, ok bool) {
	row, ok = parseRow(format, line)
	return row, ok && row.Status.Known()
}

// parseRow is the one line parser. Its statuses are open: any status-shaped word
// (lower case, digits, underscores) is taken as written, so a report of a newer version
// reads back with the statuses it has; callers that act on a status check Known.
func parseRow(format Format, line []byte) (job.Result, bool) {
	var rec jsonRow
	switch format {
	case FormatCSV:
		f, ok := csvFields(line)
		if !ok || (len(f) != len(Columns) && len(f) != len(ColumnsV1)) || isHeader(f) {
			return job.Result{}, false
		}
		for i, v := range f {
			f[i] = SheetValue(v) // the spreadsheet rule (sheet.go), undone exactly
		}
		attempts, _ := strconv.Atoi(f[2])
		rec = jsonRow{Username: f[0], Status: job.Status(f[1]), Attempts: attempts, ErrorCode: f[3],
			ErrorMessage: f[4], DeliveryMedium: f[5], Destination: f[6], AttributeName: f[7],
			RequestID: f[8], SourceRef: f[9], StartedAt: f[10], FinishedAt: f[11]}
		if len(f) > 12 {
			rec.Message = job.Message(f[12])
		}
	case FormatJSONL:
		if json.Unmarshal(line, &rec) != nil {
			return job.Result{}, false
		}
	default:
		return job.Result{}, false
	}
	if !statusShaped(rec.Status) {
		return job.Result{}, false
	}
	return job.Result{Username: rec.Username, Status: rec.Status, Attempts: rec.Attempts,
		ErrorCode: rec.ErrorCode, ErrorMessage: rec.ErrorMessage, DeliveryMedium: rec.DeliveryMedium,
		Destination: rec.Destination, AttributeName: rec.AttributeName, RequestID: rec.RequestID,
		SourceRef: rec.SourceRef, StartedAt: parseTime(rec.StartedAt), FinishedAt: parseTime(rec.FinishedAt),
		Message: rec.Message}, true
}

// csvFields splits one CSV line. Without a quote, that is splitting at commas (what
// encoding/csv does then too), and far cheaper than a csv.Reader per line, which
// allocates its buffer each time: reading a million-row report back spent most of its
// time there.
func csvFields(line []byte) ([]string, bool) {
	s := string(line)
	if !strings.Contains(s, `"`) {
		return strings.Split(s, ","), true
	}
	f, err := csv.NewReader(strings.NewReader(s)).Read()
	return f, err == nil
}

// statusShaped: a status is a short word of [a-z0-9_] starting with a letter, like
// every status the tool writes; anything else (empty, a sentence, a number) is foreign.
func statusShaped(s job.Status) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Line is one non-empty line of a report, as ScanReport reads it.
type Line struct {
	N      int        // line number in the file, from 1 (blank lines count)
	Row    job.Result // the row the line records, when OK
	OK     bool       // the line is a row (statuses open: see parseRow)
	Header bool       // the CSV header (the file's first line, and it is cognito-resend's)
	// Torn: the file's last line, and it has no newline: a write cut short (kill -9),
	// or one still being written.
	Torn bool
}

// ScanReport calls fn for every non-empty line of the report at path, in file order,
// each parsed on its own. Nothing in a line's content is an error: a torn or foreign line
// is a Line that is not OK. The error is for a path that has no report format
// (FormatForPath) or can't be read.
func ScanReport(path string, fn func(Line)) error {
	format, err := FormatForPath(path)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	err = eachLine(f, func(n int, line []byte, torn bool) {
		l := Line{N: n, Torn: torn}
		if n == 1 && format == FormatCSV {
			rec, err := csv.NewReader(strings.NewReader(string(line))).Read()
			if l.Header = err == nil && isHeader(rec); l.Header {
				fn(l)
				return
			}
		}
		l.Row, l.OK = parseRow(format, line)
		fn(l)
	})
	if err != nil {
		return fmt.Errorf("read report %s: %w", path, err)
	}
	return nil
}

// ReadRows calls fn for every row of the report at path whose status this version
// knows, in file order, and counts the lines that are not such rows (skipped). A CSV
// report must start with cognito-resend's header: another file is refused rather than
// misread.
func ReadRows(path string, fn func(job.Result)) (rows, skipped int, err error) {
	format, err := FormatForPath(path)
	if err != nil {
		return 0, 0, err
	}
	first := true
	err = ScanReport(path, func(l Line) {
		if first && format == FormatCSV {
			first = false
			return // header, checked below
		}
		first = false
		if !l.OK || !l.Row.Status.Known() {
			skipped++
			return
		}
		rows++
		fn(l.Row)
	})
	if err != nil {
		return rows, skipped, err
	}
	if format == FormatCSV {
		if err := checkCSVHeader(path); err != nil {
			return rows, skipped, err
		}
	}
	return rows, skipped, nil
}

func checkCSVHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if line == "" {
		return nil // killed before the header reached the disk: OpenReport writes it
	}
	rec, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil || !isHeader(rec) {
		return fmt.Errorf("report %s: its header is not cognito-resend's (%s); refusing to append", path, strings.Join(Columns, ","))
	}
	return nil
}

// eachLine calls fn for every non-empty line (without its newline), of any length, with
// its line number (from 1; blank lines are counted, not passed) and whether it is a last
// line without a newline (torn).
func eachLine(r io.Reader, fn func(n int, line []byte, torn bool)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if l := bytes.TrimRight(line, "\r\n"); len(l) > 0 {
			fn(n, l, errors.Is(err, io.EOF))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// CSVReportColumns is the number of columns of the report CSV at path: its header's, 0
// when its first line is not cognito-resend's header (another CSV, an empty file).
func CSVReportColumns(path string) int { return csvHeaderWidth(path) }

// csvHeaderWidth is the number of columns of the CSV header at path (0: none readable).
func csvHeaderWidth(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return 0
	}
	rec, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil || !isHeader(rec) {
		return 0
	}
	return len(rec)
}
