package reportset

import (
	"encoding/csv"
	"io"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// UsersColumns are the columns of WriteUsersCSV: what `run --csv` reads (the username
// column; the report has no per-user metadata columns to carry over) and each user's
// final status. The header marks the file as one written for people: its cells follow
// the spreadsheet rule (records.SheetCell) and `run --csv` reads them back exactly.
var UsersColumns = records.UsersColumns

// WriteUsersCSV writes the users whose final status is one of statuses, in the order
// they first appear in the reports, as a CSV that `run --csv` reads (a username column).
// It returns how many it wrote.
func (s *Set) WriteUsersCSV(w io.Writer, statuses []job.Status) (int, error) {
	want := map[job.Status]bool{}
	for _, st := range statuses {
		want[st] = true
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(UsersColumns); err != nil {
		return 0, err
	}
	n := 0
	for i := range s.users {
		u := &s.users[i]
		if !want[s.status(u)] {
			continue
		}
		if err := cw.Write([]string{records.SheetCell(u.name), records.SheetCell(string(s.status(u)))}); err != nil {
			return n, err
		}
		n++
	}
	cw.Flush()
	return n, cw.Error()
}

// Sample is a user whose final row has code, and that row's message: the first such
// user in report order. ok is false when no final row has code.
func (s *Set) Sample(code string) (username, message string, ok bool) {
	id, ok := s.codes.index[code]
	if !ok || code == "" {
		return "", "", false
	}
	for i := range s.users {
		if u := &s.users[i]; u.code == id {
			return u.name, s.message(u), true
		}
	}
	return "", "", false
}
