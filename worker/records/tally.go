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
	if r.SourceRef != "" {
		if prev, ok := t.last[r.SourceRef]; ok {
			if replaces, decided := Supersedes(prev, r.Status); decided && !replaces {
				return
			}
			t.Counts[prev]--
			t.Rows--
		}
		t.last[r.SourceRef] = r.Status
	}
	t.Counts[r.Status]++
	t.Rows++
}
