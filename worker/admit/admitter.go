package admit

import (
	"fmt"
	"math"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// DuplicateMessage is the error_message of a duplicate row, after the first row's
// source_ref when that is known.
const DuplicateMessage = "username already has a row in this campaign"

// InvalidInputCode is the error_code of an invalid_input row the admit rule writes (input
// rejected before any call; Cognito's own rejection keeps its exception name).
const InvalidInputCode = "InvalidInput"

// Admitter is the admit rule, the one gate between a source and the Cognito call. A job
// is sent only if its input is valid (the source says why not in Job.Invalid) and its
// user has no row yet: not in this run, not in the earlier runs of a resumed campaign.
// The engine, the census (--dry-run, the prompt) and enqueue all admit through it.
type Admitter struct {
	prior *Set // users done in earlier runs (read only: the census and the run share it)
	seen  *Set // users admitted in this run, tagged with their first row's RefTag
}

// New returns an Admitter comparing usernames under c. prior, when not nil, holds the
// users an earlier run of the campaign finished, tagged with the RefTag of the row that
// did; it is never modified.
func New(c Case, prior *Set) *Admitter {
	return &Admitter{prior: prior, seen: NewSet(c)}
}

// Admit applies the rule to j: send reports whether the job goes on to Cognito; when
// not, row is its report row (invalid_input or duplicate; the caller stamps the time).
// A job admitted is remembered: its user comes again as a duplicate (naming the first
// source_ref) unless Forget.
func (a *Admitter) Admit(j job.Job) (row job.Result, send bool) {
	if j.Invalid != "" {
		return job.Result{Username: j.Username, Status: job.StatusInvalidInput, ErrorCode: InvalidInputCode,
			ErrorMessage: j.Invalid, SourceRef: j.SourceRef, Class: job.ClassPerUser}, false
	}
	first, dup := a.prior.Get(j.Username)
	if !dup {
		first, send = a.seen.AddTag(j.Username, RefTag(j.SourceRef))
		if send {
			return job.Result{}, true
		}
	}
	return job.Result{Username: j.Username, Status: job.StatusDuplicate,
		ErrorMessage: duplicateMessage(first), SourceRef: j.SourceRef, Class: job.ClassPerUser}, false
}

// Forget un-admits a user whose job will come again: it was given back to its source,
// or the source redelivers it (Result.Redeliver).
func (a *Admitter) Forget(username string) { a.seen.Remove(username) }

// RefTag is how a set remembers a source_ref in its 32-bit tag: a CSV line number
// (1..2^32-1) is kept; any other ref (an SQS message id, a pool username) is 0, not kept:
// a string a user would cost more than the whole entry.
func RefTag(ref string) uint32 {
	// Canonical digits only ("012" is a name, not line 12); no allocation: it runs per row.
	if ref == "" || len(ref) > 10 || ref[0] == '0' {
		return 0
	}
	var n uint64
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + uint64(c-'0')
	}
	if n > math.MaxUint32 {
		return 0
	}
	return uint32(n)
}

func duplicateMessage(first uint32) string {
	if first == 0 {
		return DuplicateMessage
	}
	return fmt.Sprintf("duplicate of source_ref %d: %s", first, DuplicateMessage)
}
