package records

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Columns are the report's columns, in order (CSV header and JSONL key order). message
// (confirmation or invitation, --invitations) came last, after the others, so that
// readers of the older reports keep finding every column where it was.
var Columns = []string{
	"username", "status", "attempts", "error_code", "error_message", "delivery_medium",
	"destination", "attribute_name", "request_id", "source_ref", "started_at", "finished_at",
	"message",
}

// ColumnsV1 are the columns of reports written before the message column: they still
// read back, and a resumed campaign appends rows of the same width to them (the file
// keeps one header).
var ColumnsV1 = Columns[:12:12]

// isHeader reports whether rec is the header of a report of ours, of either width.
func isHeader(rec []string) bool { return slices.Equal(rec, Columns) || slices.Equal(rec, ColumnsV1) }

// Writer records results. Write buffers; Sync makes everything written so far
// durable (flush + fsync). Only one goroutine may use it.
type Writer interface {
	Write(r job.Result) error
	Sync() error
	Close() error
}

// Format is csv or jsonl.
type Format string

const (
	FormatCSV   Format = "csv"
	FormatJSONL Format = "jsonl"
)

// FormatForPath picks the report format from the file extension: the one check of a
// report path (config.Validate, OpenReport, the resume loader and rotation use it).
func FormatForPath(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return FormatCSV, nil
	case ".jsonl", ".ndjson":
		return FormatJSONL, nil
	}
	return "", fmt.Errorf("report %q: extension must be .csv, .jsonl or .ndjson", path)
}

// OpenReport creates the report file with mode 0600 (it holds personal data). A new
// campaign refuses to overwrite an existing file; appendMode (resume) appends to it,
// first ending a torn last line so the next row starts clean. The file is never
// rewritten in place.
func OpenReport(path string, appendMode bool) (Writer, error) {
	format, err := FormatForPath(path)
	if err != nil {
		return nil, err
	}
	f, size, err := openLog(path, appendMode)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("report %s already exists: use --resume to continue that campaign or choose another --report", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open report: %w", err)
	}
	w, err := newWriter(f, format, size == 0)
	if err == nil && size > 0 && format == FormatCSV && csvHeaderWidth(path) == len(ColumnsV1) {
		// A report begun before the message column: its rows stay as wide as its header.
		w.(*csvReport).rec = make([]string, len(ColumnsV1))
	}
	return w, err
}

// NewWriter writes a report to w (tests, stdout). The header is written for CSV.
func NewWriter(w io.Writer, format Format) (Writer, error) {
	return newWriter(w, format, true)
}

func newWriter(w io.Writer, format Format, header bool) (Writer, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	base := reportBase{w: w, bw: bw}
	switch format {
	case FormatCSV:
		cw := &csvReport{reportBase: base, cw: csv.NewWriter(bw), rec: make([]string, len(Columns))}
		if header {
			if err := cw.cw.Write(Columns); err != nil {
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
		return syncFile(f)
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

func (c *csvReport) Write(r job.Result) error {
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
	if len(c.rec) > 12 {
		c.rec[12] = string(r.Message)
	}
	for i, v := range c.rec {
		if strings.ContainsAny(v, "\r\n") {
			v = oneLine.Replace(v)
		}
		c.rec[i] = SheetCell(v) // a report is opened in spreadsheets: never a formula
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

// jsonRow fixes the JSONL key order to Columns.
type jsonRow struct {
	Username       string     `json:"username"`
	Status         job.Status `json:"status"`
	Attempts       int        `json:"attempts"`
	ErrorCode      string     `json:"error_code"`
	ErrorMessage   string     `json:"error_message"`
	DeliveryMedium string     `json:"delivery_medium"`
	Destination    string     `json:"destination"`
	AttributeName  string     `json:"attribute_name"`
	RequestID      string     `json:"request_id"`
	SourceRef      string     `json:"source_ref"`
	StartedAt      string     `json:"started_at"`
	FinishedAt     string     `json:"finished_at"`
	// Message: "" in the rows no message was decided for.
	Message job.Message `json:"message"`
}

type jsonlReport struct {
	reportBase
	enc *json.Encoder
}

func (j *jsonlReport) Write(r job.Result) error {
	return j.enc.Encode(jsonRow{
		Username: r.Username, Status: r.Status, Attempts: r.Attempts, ErrorCode: r.ErrorCode,
		ErrorMessage: r.ErrorMessage, DeliveryMedium: r.DeliveryMedium, Destination: r.Destination,
		AttributeName: r.AttributeName, RequestID: r.RequestID, SourceRef: r.SourceRef,
		StartedAt: fmtTime(r.StartedAt), FinishedAt: fmtTime(r.FinishedAt), Message: r.Message,
	})
}

func (j *jsonlReport) Sync() error  { return j.sync() }
func (j *jsonlReport) Close() error { return j.close(nil) }
