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
	colUsername        = "username"
	colUserContextData = "user_context_data"
	colMetadataPrefix  = "client_metadata."
)

// ErrNoRows is returned for a CSV with no data rows: almost always the wrong file.
var ErrNoRows = errors.New("the CSV has no usernames")

// Source streams jobs from a CSV: a header row with a username column (any case),
// or a single headerless column. Memory does not grow with the number of rows.
type Source struct {
	r       *csv.Reader
	userCol int
	ucdCol  int            // -1 when absent
	mdCols  map[int]string // column index → ClientMetadata key
	pending *job.Job       // first data row, read ahead to detect headerless files
	// Rows counts data rows returned so far.
	Rows int
}

var _ job.Source = (*Source)(nil)

// New reads the header (or first row) and returns an error for input that
// can't be a campaign: empty, or a multi-column header without a username column.
func New(in io.Reader) (*Source, error) {
	// Strip a UTF-8 BOM from the stream itself: left in place it would make a quoted
	// first header field ("\uFEFF\"username\"") a parse error.
	br := bufio.NewReader(in)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1 // ragged rows are reported per row, not fatal
	r.ReuseRecord = true
	s := &Source{r: r, ucdCol: -1, mdCols: map[int]string{}}

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
		name := strings.ToLower(admit.NormalizeUsername(f))
		switch {
		case name == colUsername:
			s.userCol, header = i, true
		case name == colUserContextData:
			s.ucdCol = i
		case strings.HasPrefix(name, colMetadataPrefix) && len(name) > len(colMetadataPrefix):
			s.mdCols[i] = admit.NormalizeUsername(f)[len(colMetadataPrefix):]
		}
	}
	switch {
	case header:
	case len(first) == 1:
		// Headerless single column: the first row is a username.
		s.ucdCol, s.mdCols = -1, nil
		job := s.jobOf(first, line, err)
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
		job := s.jobOf(rec, line, err)
		s.pending = &job
	}
	return s, nil
}

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
	rec, line, err := s.readNonBlank()
	if errors.Is(err, io.EOF) {
		return job.Job{}, io.EOF
	}
	if isReadErr(err) {
		// The input itself failed (disk, pipe): not a row; stop the campaign.
		return job.Job{}, fmt.Errorf("read CSV: %w", err)
	}
	s.Rows++
	return s.jobOf(rec, line, err), nil
}

// readNonBlank returns the next record that has any non-blank field, with its line.
// A parse error comes back with a nil record (the reader moves on past it).
func (s *Source) readNonBlank() ([]string, int, error) {
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
			if admit.NormalizeUsername(f) != "" {
				return rec, line, nil
			}
		}
	}
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
	j.Username = admit.NormalizeUsername(rec[s.userCol])
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

// isReadErr: an I/O error of the input, as opposed to a malformed row.
func isReadErr(err error) bool {
	var pe *csv.ParseError
	return err != nil && !errors.As(err, &pe)
}
