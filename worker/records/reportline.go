package records

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// The report reader: one parser for every program that reads reports back (resume
// today, report tooling tomorrow). Every line is parsed on its own, so a line torn by
// kill -9 is skipped without swallowing its neighbours.

// ParseLine reads one report line (without its newline) into the row it records. ok is
// false for a line that is not a row of ours: torn, foreign, a CSV header, or a status
// this version does not know.
func ParseLine(format Format, line []byte) (row job.Result, ok bool) {
	var rec jsonRow
	switch format {
	case FormatCSV:
		f, err := csv.NewReader(strings.NewReader(string(line))).Read()
		if err != nil || len(f) != len(Columns) {
			return job.Result{}, false
		}
		attempts, _ := strconv.Atoi(f[2])
		rec = jsonRow{Username: f[0], Status: job.Status(f[1]), Attempts: attempts, ErrorCode: f[3],
			ErrorMessage: f[4], DeliveryMedium: f[5], Destination: f[6], AttributeName: f[7],
			RequestID: f[8], SourceRef: f[9], StartedAt: f[10], FinishedAt: f[11]}
	case FormatJSONL:
		if json.Unmarshal(line, &rec) != nil {
			return job.Result{}, false
		}
	default:
		return job.Result{}, false
	}
	if !rec.Status.Known() {
		return job.Result{}, false
	}
	return job.Result{Username: rec.Username, Status: rec.Status, Attempts: rec.Attempts,
		ErrorCode: rec.ErrorCode, ErrorMessage: rec.ErrorMessage, DeliveryMedium: rec.DeliveryMedium,
		Destination: rec.Destination, AttributeName: rec.AttributeName, RequestID: rec.RequestID,
		SourceRef: rec.SourceRef, StartedAt: parseTime(rec.StartedAt), FinishedAt: parseTime(rec.FinishedAt)}, true
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// ReadRows calls fn for every row of the report at path, in file order, and counts the
// lines that are not rows (skipped). A CSV report must start with cognito-resend's
// header: another file is refused rather than misread.
func ReadRows(path string, fn func(job.Result)) (rows, skipped int, err error) {
	format, err := FormatForPath(path)
	if err != nil {
		return 0, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	first := true
	err = eachLine(f, func(line []byte) {
		if first && format == FormatCSV {
			first = false
			return // header, checked below
		}
		first = false
		row, ok := ParseLine(format, line)
		if !ok {
			skipped++
			return
		}
		rows++
		fn(row)
	})
	if err != nil {
		return rows, skipped, fmt.Errorf("read report: %w", err)
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
	if err != nil || !slices.Equal(rec, Columns) {
		return fmt.Errorf("report %s: its header is not cognito-resend's (%s); refusing to append", path, strings.Join(Columns, ","))
	}
	return nil
}

// eachLine calls fn for every non-empty line (without its newline), of any length.
func eachLine(r io.Reader, fn func([]byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if l := strings.TrimRight(string(line), "\r\n"); l != "" {
			fn([]byte(l))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
