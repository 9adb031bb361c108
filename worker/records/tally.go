package records

import "github.com/cognito-resend/cognito-resend/worker/job"

// Tally counts a campaign's rows by status across its runs, the way an operator reads
// the report and `report summary` folds it: one status per source ref, its latest row
// under the supersede rule (Supersedes). A retried user counts once (unknown, failed,
// limit_exceeded replaced by the row of its retry); a row that only echoes a real
// outcome (a queue's redelivered message reported `duplicate` after the user's `sent` or
// `unknown` row) is not counted. Rows is the number of source refs counted. Not safe for
// concurrent use.
type Tally struct {
	Counts map[job.Status]int
	Rows   int
	last   map[string]job.Status // the counted status of each source ref
}

// NewTally is an empty tally.
func NewTally() *Tally { return &Tally{Counts: map[job.Status]int{}, last: map[string]job.Status{}} }

// Add counts one row, the latest of its source ref so far.
func (t *Tally) Add(r job.Result) {
	if r.SourceRef == "" {
		t.fold("", false, r.Status)
		return
	}
	prev, had := t.last[r.SourceRef]
	t.last[r.SourceRef] = t.fold(prev, had, r.Status)
}

// fold counts a row of status next on a source ref whose counted status is prev (had:
// it has one) and returns the ref's counted status now: next, or prev when the
// supersede rule keeps it. A ResumeState keeps each line's counted status in its own
// line tag: a Tally of its own would hold every source ref again, as a string.
func (t *Tally) fold(prev job.Status, had bool, next job.Status) job.Status {
	if had {
		if replaces, decided := Supersedes(prev, next); decided && !replaces {
			return prev
		}
		t.Counts[prev]--
		t.Rows--
	}
	t.Counts[next]++
	t.Rows++
	return next
}
