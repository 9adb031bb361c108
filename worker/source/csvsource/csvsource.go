package csvsource

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// CSV column names (matched case-insensitively).
const (
	colUsername = "username"
	// colCognitoUsername is the username column of Cognito's own user export and import
	// files (GetCSVHeader).
	colCognitoUsername = "cognito:username"
	colUserContextData = "user_context_data"
	colMetadataPrefix  = "client_metadata."
)

// ErrNoRows is returned for a CSV with no data rows: almost always the wrong file.
var ErrNoRows = errors.New("the CSV has no usernames")

// Options are the CSV source's settings. The zero value reads the header in auto mode.
type Options struct {
	// Header is --header: whether the first row is a header (HeaderAuto when empty).
	Header Header
	// Cells, when set, is asked about the header row: for a file cognito-resend wrote
	// for people (its report, a `report users` list), whose cells follow the spreadsheet
	// rule, it returns how to read a cell back (records.SheetReader); nil for any other
	// file, whose cells are read as written.
	Cells func(header []string) func(cell string) string
	// Refuse, when set, is asked about a header row: an error refuses the file (a
	// cognito-resend report given as a list of users: records.ReportAsInput).
	Refuse func(header []string) error
	// Stream: the input is read once, as it is sent (standard input), not counted to its
	// end first: the semicolon rule's end-of-file case would only come after the calls,
	// so it is off (its header case still holds).
	Stream bool
}

// Source streams jobs from a CSV: a header row with a username column (any case), or a
// single column of usernames whose first row may be a header (see Header). Memory does
// not grow with the number of rows.
type Source struct {
	r       *csv.Reader
	userCol int
	ucdCol  int                 // -1 when absent
	mdCols  map[int]string      // column index → ClientMetadata key; nil without a header
	pending *job.Job            // first data row, read ahead to detect headerless files
	cell    func(string) string // reads a username cell back (Options.Cells); nil: as written
	header  HeaderInfo
	semi    semicolons // the semicolon rule (semicolon.go), on a one-column file's rows
	// Rows counts data rows returned so far.
	Rows int
}

var _ job.Source = (*Source)(nil)

// New reads the header (or first row) and returns an error for input that can't be a
// campaign: empty, a multi-column header without a username column, or several columns
// with --header no.
func New(in io.Reader, opts Options) (*Source, error) {
	mode := opts.Header
	if mode == "" {
		mode = HeaderDefault
	}
	if !mode.Valid() {
		return nil, fmt.Errorf("--header must be auto, yes or no (got %q)", mode)
	}
	// Strip a UTF-8 BOM from the stream itself: left in place it would make a quoted
	// first header field ("\uFEFF\"username\"") a parse error.
	br := bufio.NewReader(in)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	r := csv.NewReader(sniff(br))
	r.FieldsPerRecord = -1 // ragged rows are reported per row, not fatal
	r.ReuseRecord = true
	s := &Source{r: r, ucdCol: -1}

	// A header is never blank: rows of empty fields (",,") before it are skipped.
	first, line, err := s.readRow(allFieldsBlank)
	if errors.Is(err, io.EOF) {
		return nil, ErrNoRows
	}
	if err != nil && first == nil {
		return nil, readErr("read CSV header", err)
	}
	first[0] = strings.TrimPrefix(first[0], "\uFEFF")
	if len(first) == 1 && mode != HeaderNo && semicolonHeader(first[0]) {
		return nil, semicolonError(line, first[0])
	}
	if len(first) > 1 || opts.Stream {
		s.semi.fields = -1
	}
	if s.header, s.userCol, err = decideHeader(mode, first, line); err != nil {
		return nil, err
	}
	if !s.header.Present {
		// No header: one column of usernames, the first row is one.
		s.semi.see(first, line)
		job := s.jobOf(first, line, nil)
		s.pending = &job
		return s, nil
	}
	if opts.Refuse != nil {
		if err := opts.Refuse(first); err != nil {
			return nil, err
		}
	}
	if opts.Cells != nil {
		s.cell = opts.Cells(first)
	}
	s.mdCols = map[int]string{}
	for i, f := range first {
		name := strings.ToLower(admit.NormalizeUsername(f))
		switch {
		case name == colUserContextData:
			s.ucdCol = i
		case strings.HasPrefix(name, colMetadataPrefix) && len(name) > len(colMetadataPrefix):
			s.mdCols[i] = admit.NormalizeUsername(f)[len(colMetadataPrefix):]
		}
	}
	// A header with nothing under it is as suspicious as an empty file.
	rec, line, err := s.readRow(blankLine)
	if errors.Is(err, io.EOF) {
		return nil, ErrNoRows
	}
	if isReadErr(err) {
		return nil, readErr("read CSV", err)
	}
	s.semi.see(rec, line)
	job := s.jobOf(rec, line, err)
	s.pending = &job
	return s, nil
}

// Header is what New decided about the first row, and why.
func (s *Source) Header() HeaderInfo { return s.header }

// Redelivers is false: a CSV is read once.
func (*Source) Redelivers() bool { return false }

// Next returns the next row as a job; io.EOF at the end. Rows that can't be sent come
// back with Job.Invalid set, so every row gets exactly one report row.
func (s *Source) Next(ctx context.Context) (job.Job, error) {
	if err := ctx.Err(); err != nil {
		return job.Job{}, err
	}
	if s.pending != nil {
		j := *s.pending
		s.pending = nil
		s.Rows++
		return j, nil
	}
	rec, line, err := s.readRow(blankLine)
	if errors.Is(err, io.EOF) {
		if err := s.semi.refused(); err != nil {
			return job.Job{}, err
		}
		return job.Job{}, io.EOF
	}
	if isReadErr(err) {
		// The input itself failed (disk, pipe, not text): not a row; stop the campaign.
		return job.Job{}, readErr("read CSV", err)
	}
	s.semi.see(rec, line)
	s.Rows++
	return s.jobOf(rec, line, err), nil
}

// readRow returns the next record that is not blank, with its line. A parse error comes
// back with a nil record (the reader moves on past it).
func (s *Source) readRow(blank func([]string) bool) ([]string, int, error) {
	for {
		rec, err := s.r.Read()
		if errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if pe.Err == csv.ErrFieldCount && rec != nil {
					return rec, pe.StartLine, nil
				}
				return nil, pe.StartLine, err
			}
			return nil, 0, err
		}
		if !blank(rec) {
			line, _ := s.r.FieldPos(0)
			return rec, line, nil
		}
	}
}

// blankLine is the data rows' rule: a blank line (only whitespace) gets no row; every
// other line gets exactly one, an empty username (",,", a quoted "") as invalid_input.
// encoding/csv skips empty lines itself and returns a whitespace-only line as one field;
// it can't tell "  " from a quoted "  ", so both are blank.
func blankLine(rec []string) bool {
	return len(rec) == 1 && rec[0] != "" && admit.NormalizeUsername(rec[0]) == ""
}

// allFieldsBlank is the rule before the header: a row of empty fields (",,", as
// spreadsheets export empty rows) can't be a header.
func allFieldsBlank(rec []string) bool {
	for _, f := range rec {
		if admit.NormalizeUsername(f) != "" {
			return false
		}
	}
	return true
}

func (s *Source) jobOf(rec []string, line int, readErr error) job.Job {
	j := job.Job{SourceRef: strconv.Itoa(line)}
	if readErr != nil {
		var pe *csv.ParseError
		if errors.As(readErr, &pe) {
			j.Invalid = "malformed CSV: " + pe.Err.Error()
		} else {
			j.Invalid = "unreadable CSV row: " + readErr.Error()
		}
		return j
	}
	if s.userCol >= len(rec) {
		j.Invalid = fmt.Sprintf("row has %d fields, no username column", len(rec))
		return j
	}
	name := rec[s.userCol]
	if s.cell != nil {
		name = s.cell(name)
	}
	j.Username = admit.NormalizeUsername(name)
	if s.mdCols == nil && len(rec) > 1 {
		j.Invalid = fmt.Sprintf("row has %d fields; a headerless CSV must have one column", len(rec))
		return j
	}
	if reason := admit.ValidateUsername(j.Username); reason != "" {
		j.Invalid = reason
		j.Username = admit.Printable(j.Username)
		return j
	}
	if s.ucdCol >= 0 && s.ucdCol < len(rec) {
		j.UserContextData = strings.TrimSpace(rec[s.ucdCol])
	}
	for i, key := range s.mdCols {
		if i < len(rec) {
			if j.ClientMetadata == nil {
				j.ClientMetadata = make(map[string]string, len(s.mdCols))
			}
			if !utf8.ValidString(rec[i]) {
				j.Invalid = fmt.Sprintf("client_metadata.%s is not valid UTF-8", key)
				return j
			}
			j.ClientMetadata[key] = rec[i]
		}
	}
	return j
}

// readErr is an error of the input: a NotCSVError says all there is to say.
func readErr(what string, err error) error {
	var nc *NotCSVError
	if errors.As(err, &nc) {
		return nc
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isReadErr: an I/O error of the input, as opposed to a malformed row.
func isReadErr(err error) bool {
	var pe *csv.ParseError
	return err != nil && !errors.As(err, &pe)
}
