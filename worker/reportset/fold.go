package reportset

import (
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// user is the final row of one user, compact so a million users fit in little memory
// and little garbage-collector work: the name is its own string (not a slice of the
// whole line), the time is nanoseconds, status and code are indexes into the Set's
// interned lists, and the message is kept only for rows with an error code.
type user struct {
	name     string
	finished int64 // finished_at, Unix nanoseconds; 0 without one
	file     int32
	line     int32
	status   uint16 // index into Set.statuses
	code     uint16 // index into Set.codes; 0 is no code
	message  int32  // index into Set.messages; -1 is none
	invite   bool   // the final row's message column says invitation
}

// intern is a small table of distinct strings (statuses, error codes).
type intern struct {
	index map[string]uint16
	names []string
}

func newIntern(first ...string) *intern {
	in := &intern{index: map[string]uint16{}}
	for _, s := range first {
		in.id(s)
	}
	return in
}

// id is s's index, adding it when new (past 65535 distinct strings, the last index
// stands for all others: no report has that many statuses or codes).
func (in *intern) id(s string) uint16 {
	if i, ok := in.index[s]; ok {
		return i
	}
	if len(in.names) == 1<<16-1 {
		return uint16(len(in.names) - 1)
	}
	i := uint16(len(in.names))
	in.index[s] = i
	in.names = append(in.names, strings.Clone(s))
	return i
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// supersededBy is the fold rule (doc.go): r, at line of file, replaces u's row when it
// is later — finished_at, then file order, then line — unless r is a duplicate of a row
// of another status, which says nothing of the user; a row of another status always
// replaces a duplicate. A `sent` row and what only echoes it — `recently_sent` (the
// ledger table saw that send) or `unknown` (another replica met the claim of a replica
// killed after its call, before recording its outcome) — fold to `sent` whichever is
// later and whichever file comes first: the echo is usually the later row, and the
// replicas' reports come in any order on the command line.
func (u *user) supersededBy(uStatus job.Status, r job.Result, file, line int) bool {
	if replaces, decided := records.Supersedes(uStatus, r.Status); decided {
		return replaces
	}
	if fin := unixNano(r.FinishedAt); fin != u.finished {
		return fin > u.finished
	}
	if file != int(u.file) {
		return file > int(u.file)
	}
	return line > int(u.line)
}
