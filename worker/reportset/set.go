package reportset

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// MalformedListed is how many malformed lines a Set names, per file; all are counted.
const MalformedListed = 20

// Set is a campaign's reports read as one: the final row of every user, and what the
// files held besides.
type Set struct {
	Files     []File
	Malformed []Malformed // the first MalformedListed of each file, in file order

	rows       int
	attempts   int
	superseded int
	duplicates int              // rows of status duplicate: lines repeating a user, never called
	first      time.Time        // earliest started_at of any row
	last       time.Time        // latest finished_at of any row
	index      map[string]int32 // user key (by keyCase) → users
	// keyCase is how rows of one user merge: as the run's dedupe compared usernames,
	// read from the reports' input records (records.Input.UsernameCase); case-sensitive
	// unless every report says case-insensitive (an old report without the record, or
	// reports that disagree: a case-sensitive merge never hides a user).
	keyCase admit.Case
	// unrecorded: a file without an input record (a ledger export, or a report older
	// than the record): its rule is unknown, and it may keep one row a user.
	unrecorded bool
	users      []user // in first-seen order
	statuses   *intern
	codes      *intern           // index 0 is "" (no code)
	messages   []string          // the messages of final rows with a code
	seconds    map[int64]*counts // per second of finished_at, every row
}

// File is one report as read.
type File struct {
	Path      string         `json:"path"`
	Format    records.Format `json:"format"`
	Rows      int            `json:"rows"`
	Malformed int            `json:"malformed"`
	// Foreign: a CSV whose header is not cognito-resend's; none of its lines is read as
	// a row.
	Foreign bool `json:"foreign"`
}

// Malformed names a line that is not a report row.
type Malformed struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (m Malformed) String() string { return fmt.Sprintf("%s:%d: %s", m.File, m.Line, m.Reason) }

// Read reads the reports at paths, in order, into one Set. A line that is not a row
// (torn by kill -9, a foreign file) is counted and named, never an error; the error is
// for a path that is not a report path (extension) or can't be read. A path given twice
// is read once.
func Read(paths ...string) (*Set, error) {
	if len(paths) == 0 {
		return nil, errors.New("no report file given")
	}
	known := make([]string, len(job.Statuses))
	for i, st := range job.Statuses {
		known[i] = string(st)
	}
	s := &Set{index: map[string]int32{}, statuses: newIntern(known...), codes: newIntern(""),
		seconds: map[int64]*counts{}}
	s.keyCase, s.unrecorded = mergeCase(paths)
	seen := map[string]bool{}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if seen[abs] {
			continue
		}
		seen[abs] = true
		if err := s.readFile(p); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Set) readFile(path string) error {
	format, err := records.FormatForPath(path)
	if err != nil {
		return err
	}
	fi := len(s.Files)
	s.Files = append(s.Files, File{Path: path, Format: format})
	f := &s.Files[fi]
	listed := 0
	malformed := func(line int, reason string) {
		f.Malformed++
		if listed < MalformedListed {
			listed++
			s.Malformed = append(s.Malformed, Malformed{File: path, Line: line, Reason: reason})
		}
	}
	err = records.ScanReport(path, func(l records.Line) {
		switch {
		case l.Header:
		case l.N == 1 && format == records.FormatCSV:
			f.Foreign = true
			malformed(l.N, "not a cognito-resend report: its first line is not the report's CSV header")
		case f.Foreign:
			f.Malformed++ // named once, at its first line
		case !l.OK && l.Torn:
			malformed(l.N, "torn last line (no newline): a write cut short, e.g. by kill -9")
		case !l.OK:
			malformed(l.N, "not a report row (torn, foreign or edited)")
		default:
			f.Rows++
			s.add(l.Row, fi, l.N)
		}
	})
	if err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nil
}

// add takes one row into the totals, the timeline and its user's fold.
func (s *Set) add(r job.Result, file, line int) {
	s.rows++
	s.attempts += r.Attempts
	if r.Status == job.StatusDuplicate {
		s.duplicates++
	}
	if !r.StartedAt.IsZero() && (s.first.IsZero() || r.StartedAt.Before(s.first)) {
		s.first = r.StartedAt
	}
	if r.FinishedAt.After(s.last) {
		s.last = r.FinishedAt
	}
	if !r.FinishedAt.IsZero() {
		sec := r.FinishedAt.Unix()
		c := s.seconds[sec]
		if c == nil {
			c = &counts{}
			s.seconds[sec] = c
		}
		c.add(r)
	}
	key := s.keyCase.Key(r.Username)
	i, seen := s.index[key]
	if !seen {
		i = int32(len(s.users))
		name := strings.Clone(r.Username) // not a slice of the whole line
		if k := s.keyCase.Key(name); k == name {
			key = name // one string for both (ToLower returns a lower-case string as is)
		} else {
			key = k
		}
		s.index[key] = i
		s.users = append(s.users, user{name: name, message: -1})
	} else {
		s.superseded++ // one of the two rows is
		if !s.users[i].supersededBy(s.status(&s.users[i]), r, file, line) {
			return
		}
	}
	s.set(&s.users[i], r, file, line)
}

// set makes r, at line of file, u's final row.
func (s *Set) set(u *user, r job.Result, file, line int) {
	if u.name != r.Username {
		u.name = strings.Clone(r.Username)
	}
	u.finished = unixNano(r.FinishedAt)
	u.file, u.line = int32(file), int32(line)
	u.status = s.statuses.id(string(r.Status))
	u.code = s.codes.id(r.ErrorCode)
	u.invite = r.Message == job.MessageInvitation
	switch {
	case r.ErrorCode == "":
		u.message = -1
	case u.message >= 0:
		s.messages[u.message] = strings.Clone(r.ErrorMessage)
	default:
		u.message = int32(len(s.messages))
		s.messages = append(s.messages, strings.Clone(r.ErrorMessage))
	}
}

func (s *Set) status(u *user) job.Status { return job.Status(s.statuses.names[u.status]) }

func (s *Set) code(u *user) string { return s.codes.names[u.code] }

func (s *Set) message(u *user) string {
	if u.message < 0 {
		return ""
	}
	return s.messages[u.message]
}

// mergeCase is the Set's keyCase and unrecorded (see there).
func mergeCase(paths []string) (admit.Case, bool) {
	c, unrecorded := admit.CaseInsensitive, false
	for _, p := range paths {
		if f, err := records.FormatForPath(p); err == nil && f == records.FormatCSV && records.CSVReportColumns(p) == 0 {
			continue // not a report (foreign, empty): none of its lines is read as a row
		}
		in, ok, err := records.ReadInput(p)
		if err != nil || !ok || in.UsernameCase == "" {
			unrecorded = true
		}
		if err != nil || !ok || in.UsernameCase != records.CaseInsensitiveName {
			c = admit.CaseSensitive
		}
	}
	return c, unrecorded
}

// UsernameCase says how the Set merged rows of one user.
func (s *Set) UsernameCase() admit.Case { return s.keyCase }

// Users is the number of distinct users.
func (s *Set) Users() int { return len(s.users) }

// MalformedLines is the number of lines, in every file, that are not rows.
func (s *Set) MalformedLines() int {
	n := 0
	for _, f := range s.Files {
		n += f.Malformed
	}
	return n
}
