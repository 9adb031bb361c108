package worker

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ReportColumns are the report's columns, in order (CSV header and JSONL key order).
var ReportColumns = []string{
	"username", "status", "attempts", "error_code", "error_message", "delivery_medium",
	"destination", "attribute_name", "request_id", "source_ref", "started_at", "finished_at",
}

// ReportWriter records results. Write buffers; Sync makes everything written so far
// durable (flush + fsync). Only one goroutine may use it.
type ReportWriter interface {
	Write(r Result) error
	Sync() error
	Close() error
}

// ReportFormat is csv or jsonl.
type ReportFormat string

const (
	FormatCSV   ReportFormat = "csv"
	FormatJSONL ReportFormat = "jsonl"
)

// FormatForPath picks the report format from the file extension.
func FormatForPath(path string) (ReportFormat, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return FormatCSV, nil
	case ".jsonl", ".ndjson":
		return FormatJSONL, nil
	}
	return "", fmt.Errorf("report %q: extension must be .csv or .jsonl", path)
}

// OpenReport creates the report file with mode 0600 (it holds personal data). A new
// campaign refuses to overwrite an existing file; appendMode (resume) appends to it,
// first ending a torn last line so the next row starts clean. The file is never
// rewritten in place.
func OpenReport(path string, appendMode bool) (ReportWriter, error) {
	format, err := FormatForPath(path)
	if err != nil {
		return nil, err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if !appendMode {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("report %s already exists: use --resume to continue that campaign or choose another --report", path)
		}
		return nil, fmt.Errorf("open report: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	needHeader := st.Size() == 0
	if !needHeader {
		if err := endTornLine(path, f, st.Size()); err != nil {
			f.Close()
			return nil, err
		}
	}
	return newReportWriter(f, format, needHeader)
}

// endTornLine appends a newline if the file does not end with one (a kill -9 mid-write).
func endTornLine(path string, w *os.File, size int64) error {
	r, err := os.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	last := make([]byte, 1)
	if _, err := r.ReadAt(last, size-1); err != nil {
		return err
	}
	if last[0] != '\n' {
		_, err = w.Write([]byte("\n"))
	}
	return err
}

// NewReportWriter writes a report to w (tests, stdout). The header is written for CSV.
func NewReportWriter(w io.Writer, format ReportFormat) (ReportWriter, error) {
	return newReportWriter(w, format, true)
}

func newReportWriter(w io.Writer, format ReportFormat, header bool) (ReportWriter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	base := reportBase{w: w, bw: bw}
	switch format {
	case FormatCSV:
		cw := &csvReport{reportBase: base, cw: csv.NewWriter(bw), rec: make([]string, len(ReportColumns))}
		if header {
			if err := cw.cw.Write(ReportColumns); err != nil {
				return nil, err
			}
		}
		return cw, nil
	case FormatJSONL:
		return &jsonlReport{reportBase: base, enc: json.NewEncoder(bw)}, nil
	}
	return nil, fmt.Errorf("unknown report format %q", format)
}

type reportBase struct {
	w  io.Writer
	bw *bufio.Writer
}

func (b *reportBase) sync() error {
	if err := b.bw.Flush(); err != nil {
		return err
	}
	if f, ok := b.w.(*os.File); ok {
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !isNotSyncable(err) {
			return err
		}
	}
	return nil
}

func (b *reportBase) close(flushErr error) error {
	err := errors.Join(flushErr, b.sync())
	if c, ok := b.w.(io.Closer); ok && b.w != os.Stdout && b.w != os.Stderr {
		err = errors.Join(err, c.Close())
	}
	return err
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

type csvReport struct {
	reportBase
	cw  *csv.Writer
	rec []string
}

// oneLine keeps every CSV record on one physical line, so a resume can parse the report
// line by line and a torn line can't swallow its neighbours.
var oneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

func (c *csvReport) Write(r Result) error {
	c.rec[0] = r.Username
	c.rec[1] = string(r.Status)
	c.rec[2] = strconv.Itoa(r.Attempts)
	c.rec[3] = r.ErrorCode
	c.rec[4] = r.ErrorMessage
	c.rec[5] = r.DeliveryMedium
	c.rec[6] = r.Destination
	c.rec[7] = r.AttributeName
	c.rec[8] = r.RequestID
	c.rec[9] = r.SourceRef
	c.rec[10] = fmtTime(r.StartedAt)
	c.rec[11] = fmtTime(r.FinishedAt)
	for i, v := range c.rec {
		if strings.ContainsAny(v, "\r\n") {
			c.rec[i] = oneLine.Replace(v)
		}
	}
	return c.cw.Write(c.rec)
}

func (c *csvReport) Sync() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.sync()
}

func (c *csvReport) Close() error {
	c.cw.Flush()
	return c.close(c.cw.Error())
}

// jsonRow fixes the JSONL key order to ReportColumns.
type jsonRow struct {
	Username       string `json:"username"`
	Status         Status `json:"status"`
	Attempts       int    `json:"attempts"`
	ErrorCode      string `json:"error_code"`
	ErrorMessage   string `json:"error_message"`
	DeliveryMedium string `json:"delivery_medium"`
	Destination    string `json:"destination"`
	AttributeName  string `json:"attribute_name"`
	RequestID      string `json:"request_id"`
	SourceRef      string `json:"source_ref"`
	StartedAt      string `json:"started_at"`
	FinishedAt     string `json:"finished_at"`
}

type jsonlReport struct {
	reportBase
	enc *json.Encoder
}

func (j *jsonlReport) Write(r Result) error {
	return j.enc.Encode(jsonRow{
		Username: r.Username, Status: r.Status, Attempts: r.Attempts, ErrorCode: r.ErrorCode,
		ErrorMessage: r.ErrorMessage, DeliveryMedium: r.DeliveryMedium, Destination: r.Destination,
		AttributeName: r.AttributeName, RequestID: r.RequestID, SourceRef: r.SourceRef,
		StartedAt: fmtTime(r.StartedAt), FinishedAt: fmtTime(r.FinishedAt),
	})
}

func (j *jsonlReport) Sync() error  { return j.sync() }
func (j *jsonlReport) Close() error { return j.close(nil) }
