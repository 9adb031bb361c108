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
	// Ineligible counts users the source's own listing rules out (the pool source: a
	// disabled user): each gets its row and no call.
	Ineligible int
	// Again counts the users of ToSend whose line already had a row: --retry-failed
	// (failed, limit_exceeded past its hour) and --retry-unknown call them again.
	Again int
	// Unknown counts the `unknown` rows a resumed run records first (not in Read).
	Unknown int
	// LimitWaiting counts the limit_exceeded users of a resumed campaign still within
	// their hour (not called); LimitDue is when the last of them is past it.
	LimitWaiting int
	LimitDue     time.Time
	// Header is what the CSV's first row was taken for, and why ("" for other sources).
	Header string
	// UsernameCase is the case rule the dedupe follows, and why.
	UsernameCase string
	// CheckRate is --verify-rate when each user to send is first checked with
	// AdminGetUser (--verify-users); 0 otherwise. Users the check rules out get a row and
	// no resend, so ToSend is an upper bound then.
	CheckRate float64
}

// ErrNotCountable: the source has no end to count toward (a queue).
var ErrNotCountable = errors.New("a queue can't be counted without receiving its messages")

// Countable reports whether Census can count this campaign: its source is finite and can
// be read twice (a CSV file, a user pool), unlike a queue.
func (c *Campaign) Countable() bool { return countable(c.cfg) }

// Census reads the source to its end the way the run will (resume skips, the admit
// rule, the state a listing gives) and counts, making no ResendConfirmationCode call
// (nor an AdminGetUser per user: only Prepare's one check of the permission).
func (c *Campaign) Census(ctx context.Context) (Census, error) {
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
	cen := Census{Unknown: len(r.unknown), UsernameCase: c.rule.String()}
	if c.checksUsers() {
		cen.CheckRate = c.cfg.VerifyRate
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
			c.census = &cen
			return cen, nil
		}
		if err != nil {
			return cen, err
		}
		cen.Read++
		row, send := adm.Admit(j)
		switch {
		case send && j.State != nil && !userpool.Judge(*j.State).Send:
			cen.Ineligible++
		case send:
			cen.ToSend++
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
