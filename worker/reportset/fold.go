package reportset

import (
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// user is the final row of one user (only what the renderings need, so a million
// users fit in memory).
type user struct {
	name     string
	status   job.Status
	code     string
	message  string // only with a code
	finished time.Time
	file     int32
	line     int32
}

func (u *user) set(r job.Result, file, line int) {
	u.name, u.status, u.code, u.finished = r.Username, r.Status, r.ErrorCode, r.FinishedAt
	u.message = ""
	if r.ErrorCode != "" {
		u.message = r.ErrorMessage
	}
	u.file, u.line = int32(file), int32(line)
}

// supersededBy is the fold rule (doc.go): r, at line of file, replaces u's row when it
// is later — finished_at, then file order, then line — unless r is a duplicate of a row
// of another status, which says nothing of the user; a row of another status always
// replaces a duplicate.
func (u *user) supersededBy(r job.Result, file, line int) bool {
	switch {
	case r.Status == job.StatusDuplicate && u.status != job.StatusDuplicate:
		return false
	case u.status == job.StatusDuplicate && r.Status != job.StatusDuplicate:
		return true
	}
	if c := r.FinishedAt.Compare(u.finished); c != 0 {
		return c > 0
	}
	if file != int(u.file) {
		return file > int(u.file)
	}
	return line > int(u.line)
}
