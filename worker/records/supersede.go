package records

import "github.com/cognito-resend/cognito-resend/worker/job"

// Supersedes is the order-free part of the supersede rule, the one rule every tally of
// a campaign's rows applies (Tally here, the fold of `report summary` in reportset): a
// later row of the same user (or line) whose status is next replaces one whose status is
// prev — unless decided says the statuses settle it whatever the order:
//   - a `duplicate` row never replaces a row of another status (it says nothing of the
//     user: a redelivered message, a line repeated), and any other row replaces a
//     `duplicate`;
//   - a `sent` row and what only echoes it — `recently_sent` (the ledger saw that send)
//     or `unknown` (another replica met the claim of one killed after its call, before
//     its outcome) — fold to `sent`, whichever comes later (the replicas' reports come
//     in any order).
//
// When decided is false, the later row wins.
func Supersedes(prev, next job.Status) (replaces, decided bool) {
	switch {
	case next == job.StatusDuplicate && prev != job.StatusDuplicate:
		return false, true
	case prev == job.StatusDuplicate && next != job.StatusDuplicate:
		return true, true
	case prev == job.StatusSent && echoesSend(next):
		return false, true
	case echoesSend(prev) && next == job.StatusSent:
		return true, true
	}
	return false, false
}

// echoesSend: a row of status s may only echo a send another row records.
func echoesSend(s job.Status) bool { return s == job.StatusRecentlySent || s == job.StatusUnknown }
