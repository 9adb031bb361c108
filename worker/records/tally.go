package records

import "github.com/cognito-resend/cognito-resend/worker/job"

// Tally counts a campaign's rows by status across its runs, the way an operator reads
// the report: one status per source ref, the last one. A later row for the same ref
// replaces an earlier one only if that one left the user open to a retry (unknown,
// failed, limit_exceeded: --retry-unknown, a queue's redelivery), so a retried user
// counts once; any other repeat (a redelivered message reported duplicate after it was
// sent) is a row of its own. Not safe for concurrent use.
type Tally struct {
	Counts map[job.Status]int
	Rows   int
	open   map[string]job.Status // refs whose last row a later one replaces
}

// NewTally is an empty tally.
func NewTally() *Tally { return &Tally{Counts: map[job.Status]int{}, open: map[string]job.Status{}} }

// Add counts one row.
func (t *Tally) Add(r job.Result) {
	if prev, ok := t.open[r.SourceRef]; ok {
		t.Counts[prev]--
		t.Rows--
		delete(t.open, r.SourceRef)
	}
	t.Counts[r.Status]++
	t.Rows++
	switch r.Status {
	case job.StatusUnknown, job.StatusFailed, job.StatusLimitExceeded:
		if r.SourceRef != "" {
			t.open[r.SourceRef] = r.Status
		}
	}
}
