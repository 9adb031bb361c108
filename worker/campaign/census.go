package campaign

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

// Census is what a pass over the source finds, without calling Cognito: what --dry-run
// prints and the confirmation prompt asks about.
type Census struct {
	Read, ToSend, Invalid, Duplicates int
	// Skipped counts a resumed campaign's lines (or pool users) not in Read: the report
	// settles them (a row, or an intent written `unknown`), and they are not read again.
	Skipped int
	// Ineligible counts users the source's own listing rules out (the pool source: a
	// disabled user): each gets its row and no call.
	Ineligible int
	// Again counts the users of ToSend whose line already had a row: --retry-failed
	// (failed, limit_exceeded past its hour) and --retry-unknown call them again.
	Again int
	// Unknown counts the `unknown` rows a resumed run records first (not in Read): users
	// with an intent and no row, whose call may have reached Cognito; not called again
	// (unless --retry-unknown). UnknownUsers names them.
	Unknown      int
	UnknownUsers []string
	// LimitWaiting counts the limit_exceeded users of a resumed campaign still within
	// their hour (not called); LimitDue is when the last of them is past it.
	LimitWaiting int
	LimitDue     time.Time
	// Header is what the CSV's first row was taken for, and why ("" for other sources).
	Header string
	// UsernameCase is the case rule the dedupe follows, and why.
	UsernameCase string
	// Confirmations and Invitations split ToSend by message when each user's state is
	// known before the run (the pool source's listing, the --verify-users census); both 0
	// otherwise. Invitations > 0 only with --invitations.
	Confirmations, Invitations int
	// WithInvitations: --invitations is on (the dry run names AdminCreateUser too);
	// InvitationRate is then --invitation-rate, the invitations' own pace.
	WithInvitations bool
	InvitationRate  float64
	// InvitationDelivery is --invitation-delivery (EMAIL or SMS); "": unset, Cognito's
	// default (SMS) — the dry run and the prompt warn.
	InvitationDelivery string
	// CheckRate is the rate of the check each user to send first gets with a call of its
	// own (--verify-users: AdminGetUser at --verify-rate, a queue's lookups at
	// --list-rate); 0 otherwise. Users the check rules out get a row and no resend, so
	// ToSend is an upper bound then.
	CheckRate float64
	// Verify is what --verify-users reads of the pool (nil without it).
	Verify *VerifyReads
	// Listing is the pool source's listing the census counted (nil for other sources).
	Listing *PoolListing
}

// VerifyReads is what --verify-users reads of the pool, and what it costs.
type VerifyReads struct {
	// With is --verify-with.
	With string
	// CensusPages and CensusUsers: the census of the pool (ListUsers, made once before
	// this count); Placed: the users to send it placed (their rows need no call).
	CensusPages int64
	CensusUsers int
	Placed      int
	// States are the user states the census listed (with --invitations
	// FORCE_CHANGE_PASSWORD too).
	States []string
	// Lookups: the users it could not place, each looked up by name (ListUsers) in the
	// run: none of them is in a state a code is for, but the lookup tells
	// already_confirmed, user_not_found, disabled and not_eligible apart.
	Lookups int
	// AdminGetUser: the calls --verify-with admin-get-user will make (one per user to
	// send), each making the user a billed monthly active user.
	AdminGetUser int
	// NoCensus says why a CSV campaign looks each user up instead of listing the pool
	// ("" otherwise).
	NoCensus string
	// ListRate is --list-rate, the Lookups' pace.
	ListRate float64
	// Idle says why nothing was read of the pool, no census nor start-up check (no line
	// of the CSV left to send); "" otherwise.
	Idle string
}

// ETA is how long the run of this census takes at pace (Campaign.Pace): its sends (with
// --invitations, the codes at pace and the invitations at theirs, side by side), and
// the ListUsers lookups by name of the users the census of the pool could not place, at
// --list-rate (they hold the pipeline's workers: measured, the two add up), in whole
// seconds rounded up. The one estimate the dry run and the prompt give.
func (cen Census) ETA(pace float64) time.Duration {
	var secs float64
	switch {
	case cen.WithInvitations && cen.Split() && cen.Invitations > 0 && cen.InvitationRate > 0 && pace > 0:
		// Each message at its own limiter's pace, side by side: the slower one ends last.
		secs = max(float64(cen.Confirmations)/pace, float64(cen.Invitations)/cen.InvitationRate)
	case pace > 0:
		secs = float64(cen.ToSend) / pace
	}
	if v := cen.Verify; v != nil && v.Lookups > 0 && v.ListRate > 0 {
		secs += float64(v.Lookups) / v.ListRate
	}
	d := time.Duration(secs * float64(time.Second))
	return (d + time.Second - 1).Truncate(time.Second)
}

// LookupsETA is the lookups' part of ETA (0 without any).
func (cen Census) LookupsETA() time.Duration {
	return cen.ETA(0)
}

// PoolListing is the pool source's one listing: how many users, how many ListUsers
// calls, when, and whether this process made it (false: read back from the snapshot).
type PoolListing struct {
	Snapshot string
	Users    int
	Pages    int64
	ListedAt time.Time
	Listed   bool
}

// ErrNotCountable: the source has no end to count toward (a queue).
var ErrNotCountable = errors.New("a queue can't be counted without receiving its messages")

// Countable reports whether Census can count this campaign: its source is finite and can
// be read twice (a CSV file, a user pool), unlike a queue.
func (c *Campaign) Countable() bool { return countable(c.cfg) }

// Census reads the source to its end the way the run will (resume skips, the admit
// rule, the state a listing gives) and counts, making no ResendConfirmationCode call
// (nor a per-user check: Prepare's census of the pool, or its one check of the
// permission, is all --verify-users reads; the lookups it will make are counted).
func (c *Campaign) Census(ctx context.Context) (cen Census, err error) {
	defer func() {
		if err != nil {
			c.discardSnapshot() // refused or stopped: no orphan <report>.pool
		}
	}()
	if !c.Countable() {
		return Census{}, ErrNotCountable
	}
	if err := c.Prepare(ctx); err != nil {
		return Census{}, err
	}
	s, err := c.openSource(ctx, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return Census{}, err
	}
	defer s.close(context.WithoutCancel(ctx)) //nolint:errcheck // read-only pass
	r, err := c.resume(s.Redelivers())
	if err != nil {
		return Census{}, err
	}
	r.skipRecorded(s, c.lineMismatch(r, false))
	adm := admit.New(c.rule.Case, r.final())
	cen = Census{Unknown: len(r.unknown), UnknownUsers: usernames(r.unknown), UsernameCase: c.rule.String(), WithInvitations: c.cfg.Invitations,
		InvitationDelivery: c.cfg.InvitationMedium()}
	if c.cfg.Invitations {
		cen.InvitationRate = c.cfg.InvitationRate
	}
	if c.checksUsers() {
		cen.CheckRate = c.checkRate()
	}
	v := c.verifier
	if c.cfg.VerifyUsers && !c.cfg.PoolSource() {
		cen.Verify = &VerifyReads{With: c.cfg.VerifyWith, NoCensus: c.verifyHow, Idle: c.verifyIdle, States: c.listedStates(),
			ListRate: c.cfg.ListRate}
		if v.Census != nil {
			cen.Verify.CensusPages, cen.Verify.CensusUsers = v.Census.Pages, v.Census.Users
		}
	}
	if l := c.snapshot; l != nil && c.cfg.PoolSource() {
		pages, _ := c.ListReads()
		cen.Listing = &PoolListing{Snapshot: c.snapPath, Users: l.Users, Pages: l.Pages, ListedAt: l.ListedAt, Listed: pages > 0}
		if c.snapTemp {
			cen.Listing.Snapshot = ""
		}
	}
	if s.header != nil {
		cen.Header = s.header.String()
	}
	if st := r.state; st != nil {
		cen.LimitWaiting, cen.LimitDue = st.LimitWaiting, st.LimitDue
	}
	for {
		j, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			if sd, ok := s.Source.(*skipDone); ok {
				cen.Skipped = sd.skipped
			}
			c.census = &cen
			return cen, nil
		}
		if err != nil {
			return cen, err
		}
		cen.Read++
		row, send := adm.Admit(j)
		switch {
		case send && j.State != nil && !c.eligibility().Judge(*j.State).Send:
			cen.Ineligible++
		case send && cen.Verify != nil && v.Census != nil:
			st, placed := v.Census.Place(j.Username)
			switch {
			case !placed:
				cen.Verify.Lookups++
			case !c.eligibility().Judge(st).Send:
				cen.Verify.Placed++
				cen.Ineligible++
			default:
				cen.Verify.Placed++
				cen.ToSend++
				cen.countMessage(c.eligibility().Judge(st).Message)
				if r.retrying(j.SourceRef) {
					cen.Again++
				}
			}
		case send:
			if cen.Verify != nil && cen.Verify.With == userpool.VerifyWithAdminGetUser {
				cen.Verify.AdminGetUser++
			}
			cen.ToSend++
			if j.State != nil {
				cen.countMessage(c.eligibility().Judge(*j.State).Message)
			}
			if r.retrying(j.SourceRef) {
				cen.Again++
			}
		case row.Status == job.StatusInvalidInput:
			cen.Invalid++
		default:
			cen.Duplicates++
		}
	}
}

// Split reports whether ToSend is known by message (Confirmations + Invitations).
func (c Census) Split() bool { return c.Confirmations+c.Invitations == c.ToSend && c.ToSend > 0 }

// countMessage counts one user to send by the message their state calls for.
func (c *Census) countMessage(m job.Message) {
	if m == job.MessageInvitation {
		c.Invitations++
		return
	}
	c.Confirmations++
}

// usernames are the users of rows, in order.
func usernames(rows []job.Result) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Username
	}
	return out
}
