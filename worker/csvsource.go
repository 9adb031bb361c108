package worker

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
)

// CSV column names (matched case-insensitively).
const (
	colUsername        = "username"
	colUserContextData = "user_context_data"
	colMetadataPrefix  = "client_metadata."
)

// ErrNoRows is returned for a CSV with no data rows: almost always the wrong file.
var ErrNoRows = errors.New("the CSV has no usernames")

// CSVSource streams jobs from a CSV: a header row with a username column (any case),
// or a single headerless column. Memory does not grow with the number of rows.
type CSVSource struct {
	r       *csv.Reader
	userCol int
	ucdCol  int            // -1 when absent
	mdCols  map[int]string // column index → ClientMetadata key
	pending *Job           // first data row, read ahead to detect headerless files
	// Rows counts data rows returned so far.
	Rows int
}

var _ Source = (*CSVSource)(nil)

// NewCSVSource reads the header (or first row) and returns an error for input that
// can't be a campaign: empty, or a multi-column header without a username column.
func NewCSVSource(in io.Reader) (*CSVSource, error) {
	// Strip a UTF-8 BOM from the stream itself: left in place it would make a quoted
	// first header field ("\uFEFF\"username\"") a parse error.
	br := bufio.NewReader(in)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1 // ragged rows are reported per row, not fatal
	r.ReuseRecord = true
	s := &CSVSource{r: r, ucdCol: -1, mdCols: map[int]string{}}

	first, line, err := s.readNonBlank()
	if errors.Is(err, io.EOF) {
		return nil, ErrNoRows
	}
	if err != nil && first == nil {
		return nil, fmt.Errorf("read CSV header: %w", err)
	}
	first[0] = strings.TrimPrefix(first[0], "\uFEFF")
	header := false
	for i, f := range first {
		name := strings.ToLower(NormalizeUsername(f))
		switch {
		case name == colUsername:
			s.userCol, header = i, true
		case name == colUserContextData:
			s.ucdCol = i
		case strings.HasPrefix(name, colMetadataPrefix) && len(name) > len(colMetadataPrefix):
			s.mdCols[i] = NormalizeUsername(f)[len(colMetadataPrefix):]
		}
	}
	switch {
	case header:
	case len(first) == 1:
		// Headerless single column: the first row is a username.
		s.ucdCol, s.mdCols = -1, nil
		job := s.job(first, line, err)
		s.pending = &job
	default:
		return nil, fmt.Errorf("the CSV header (line %d) has %d columns and none is named %q", line, len(first), colUsername)
	}
	if s.pending == nil {
		// A header with nothing under it is as suspicious as an empty file.
		rec, line, err := s.readNonBlank()
		if errors.Is(err, io.EOF) {
			return nil, ErrNoRows
		}
		if isReadErr(err) {
			return nil, fmt.Errorf("read CSV: %w", err)
		}
		job := s.job(rec, line, err)
		s.pending = &job
	}
	return s, nil
}

// Next returns the next row as a job; io.EOF at the end. Rows that can't be sent come
// back with Job.Invalid set, so every row gets exactly one report row.
func (s *CSVSource) Next(ctx context.Context) (Job, error) {
	if err := ctx.Err(); err != nil {
		return Job{}, err
	}
	if s.pending != nil {
		j := *s.pending
		s.pending = nil
		s.Rows++
		return j, nil
	}
	rec, line, err := s.readNonBlank()
	if errors.Is(err, io.EOF) {
		return Job{}, io.EOF
	}
	if isReadErr(err) {
		// The input itself failed (disk, pipe): not a row; stop the campaign.
		return Job{}, fmt.Errorf("read CSV: %w", err)
	}
	s.Rows++
	return s.job(rec, line, err), nil
}

// readNonBlank returns the next record that has any non-blank field, with its line.
// A parse error comes back with a nil record (the reader moves on past it).
func (s *CSVSource) readNonBlank() ([]string, int, error) {
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
		line, _ := s.r.FieldPos(0)
		for _, f := range rec {
			if NormalizeUsername(f) != "" {
				return rec, line, nil
			}
		}
	}
}

func (s *CSVSource) job(rec []string, line int, readErr error) Job {
	j := Job{SourceRef: strconv.Itoa(line)}
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
	j.Username = NormalizeUsername(rec[s.userCol])
	if s.mdCols == nil && len(rec) > 1 {
		j.Invalid = fmt.Sprintf("row has %d fields; a headerless CSV must have one column", len(rec))
		return j
	}
	if reason := ValidateUsername(j.Username); reason != "" {
		j.Invalid = reason
		j.Username = printable(j.Username)
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

// isReadErr: an I/O error of the input, as opposed to a malformed row.
func isReadErr(err error) bool {
	var pe *csv.ParseError
	return err != nil && !errors.As(err, &pe)
}

// printable makes an invalid username safe to put in the report (bounded, valid UTF-8,
// control characters escaped) so the operator can find the row.
func printable(s string) string {
	const maxLen = 256
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= maxLen {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
