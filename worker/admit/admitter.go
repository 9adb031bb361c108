package admit

import "github.com/cognito-resend/cognito-resend/worker/job"

// DuplicateMessage is the error_message of a duplicate row.
const DuplicateMessage = "username already has a row in this campaign"

// Admitter is the admit rule, the one gate between a source and the Cognito call. A job
// is sent only if its input is valid (the source says why not in Job.Invalid) and its
// user has no row yet: not in this run, not in the earlier runs of a resumed campaign.
// The engine, the census (--dry-run, the prompt) and enqueue all admit through it.
type Admitter struct {
	prior *Set // users done in earlier runs (read only: the census and the run share it)
	seen  *Set // users admitted in this run
}

// New returns an Admitter comparing usernames under c. prior, when not nil, holds the
// users an earlier run of the campaign finished; it is never modified.
func New(c Case, prior *Set) *Admitter {
	return &Admitter{prior: prior, seen: NewSet(c)}
}

// Admit applies the rule to j: send reports whether the job goes on to Cognito; when
// not, row is its report row (invalid_input or duplicate; the caller stamps the time).
// A job admitted is remembered: its user comes again as a duplicate unless Forget.
func (a *Admitter) Admit(j job.Job) (row job.Result, send bool) {
	switch {
	case j.Invalid != "":
		return job.Result{Username: j.Username, Status: job.StatusInvalidInput, ErrorCode: "InvalidInput",
			ErrorMessage: j.Invalid, SourceRef: j.SourceRef, Class: job.ClassPerUser}, false
	case a.prior.Has(j.Username) || !a.seen.Add(j.Username):
		return job.Result{Username: j.Username, Status: job.StatusDuplicate,
			ErrorMessage: DuplicateMessage, SourceRef: j.SourceRef, Class: job.ClassPerUser}, false
	}
	return job.Result{}, true
}

// Forget un-admits a user whose job will come again: it was given back to its source,
// or the source redelivers it (Result.Redeliver).
func (a *Admitter) Forget(username string) { a.seen.Remove(username) }
