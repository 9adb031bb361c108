package reportset

import (
	"encoding/csv"
	"io"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// UsersColumns are the columns of WriteUsersCSV: what `run --csv` reads. The report has
// no per-user metadata columns (client_metadata.<key>, user_context_data) to carry over,
// so a username is all there is.
var UsersColumns = []string{"username"}

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
		if err := cw.Write([]string{u.name}); err != nil {
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
