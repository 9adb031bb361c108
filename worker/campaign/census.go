package campaign

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Census is what a pass over the source finds, without calling Cognito: what --dry-run
// prints and the confirmation prompt asks about.
type Census struct {
	Read, ToSend, Invalid, Duplicates int
	// Unknown counts the `unknown` rows a resumed run records first (not in Read).
	Unknown int
}

// ErrNotCountable: the source has no end to count toward (a queue).
var ErrNotCountable = errors.New("a queue can't be counted without receiving its messages")

// Countable reports whether Census can count this campaign: its source is finite and can
// be read twice (a CSV file, a user pool), unlike a queue.
func (c *Campaign) Countable() bool { return countable(c.cfg) }

// Census reads the source to its end the way the run will (resume skips, the admit
// rule) and counts, making no ResendConfirmationCode call.
func (c *Campaign) Census(ctx context.Context) (Census, error) {
	if !c.Countable() {
		return Census{}, ErrNotCountable
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
	r.skipRecorded(s)
	adm := admit.New(admit.CaseInsensitive, r.final())
	cen := Census{Unknown: len(r.unknown)}
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
		case send:
			cen.ToSend++
		case row.Status == job.StatusInvalidInput:
			cen.Invalid++
		default:
			cen.Duplicates++
		}
	}
}
