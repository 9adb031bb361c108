package job

import (
	"errors"
	"fmt"
	"time"
)

// VerdictKind is what a claim on a user found.
type VerdictKind int

const (
	// Won: the claim is ours and durable; the user may be called.
	Won VerdictKind = iota
	// RecentlySent: the user was sent a code within the cooldown: a recently_sent row,
	// no call.
	RecentlySent
	// Busy: another owner holds a live lease on the user: no row yet, the job comes
	// again after the lease (At).
	Busy
	// Expired: an owner's lease ran out while it held the user (it died during a call,
	// or its call may have landed): an unknown row, no call.
	Expired
)

func (k VerdictKind) String() string {
	switch k {
	case Won:
		return "won"
	case RecentlySent:
		return "recently_sent"
	case Busy:
		return "busy"
	case Expired:
		return "expired"
	}
	return "?"
}

// ClaimVerdict is the answer to a claim.
type ClaimVerdict struct {
	Kind VerdictKind
	// At is when the user was sent (RecentlySent), when the live lease ends (Busy), or
	// when the lease ran out (Expired).
	At time.Time
	// Owner (a replica id) and Campaign are who holds or held the user.
	Owner, Campaign string
}

// ErrClaimLost is returned by a lease renewal when the claim is no longer ours (its
// lease ran out and another owner met it): the job must make no further attempt.
var ErrClaimLost = errors.New("claim lost: another owner met the user after our lease ran out")

// Row is the report row of a verdict that settles the job without a call
// (RecentlySent, Expired); now stamps it.
func (v ClaimVerdict) Row(j Job, now time.Time) Result {
	r := Result{Username: j.Username, SourceRef: j.SourceRef, StartedAt: now, FinishedAt: now, Class: ClassPerUser,
		Message: j.Message.Or()}
	who := fmt.Sprintf("campaign %q, replica %q", v.Campaign, v.Owner)
	switch v.Kind {
	case RecentlySent:
		r.Status, r.ErrorCode = StatusRecentlySent, "RecentlySent"
		r.ErrorMessage = fmt.Sprintf("sent a code at %s (%s); not sent again within the cooldown",
			v.At.UTC().Format(time.RFC3339), who)
	case Expired:
		r.Status, r.ErrorCode = StatusUnknown, "Unknown"
		r.ErrorMessage = fmt.Sprintf("claimed by %s, whose lease ran out at %s before an outcome was recorded; "+
			"the user may have received %s. Not called (use --retry-unknown to call)",
			who, v.At.UTC().Format(time.RFC3339), j.Message.Noun())
	default:
		panic("job: Verdict.Row of a " + v.Kind.String() + " verdict")
	}
	return r
}
