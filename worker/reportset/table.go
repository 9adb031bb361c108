package reportset

import (
	"fmt"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"io"
	"text/tabwriter"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// WriteTable writes the summary for a person at a terminal: totals, then users by status
// and by error code, then the files and their malformed lines.
func (s Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format+"\n", a...) }
	p("users\t%d\t(%s)", s.Users, caseWhy(s.UsernameCase, s.caseUnrecorded))
	p("rows\t%d\t(%d superseded by a later row of the same user)", s.Rows, s.SupersededRows)
	if s.DuplicateRows > 0 {
		// The run summary's duplicate=N; the status table counts each user by its other row.
		p("duplicate\t%d\t(rows of lines repeating a user already in the campaign, not called; "+
			"counted above as superseded)", s.DuplicateRows)
	}
	if s.caseUnrecorded {
		p("attempts\t%d\t(Cognito calls recorded in the rows: a ledger export keeps one row a user, its last)", s.Attempts)
	} else {
		p("attempts\t%d\t(Cognito calls recorded in the rows)", s.Attempts)
	}
	if s.FirstStartedAt != "" {
		p("first start\t%s", s.FirstStartedAt)
		p("last finish\t%s", s.LastFinishedAt)
		p("span\t%s", s.Span())
	}
	p("sends/s\t%.3f\t(users sent / span)", s.SendsPerSecond)
	p("attempts/s\t%.3f", s.AttemptsPerSecond)
	p("")
	inv := s.InvitationUsers()
	if inv == 0 {
		p("STATUS\tUSERS\t")
		for _, st := range s.StatusOrder() {
			p("%s\t%d\t%s%s", st, s.Statuses[st], pct(s.Statuses[st], s.Users), duplicateNote(st, s))
		}
	} else {
		// --invitations: the invitations apart, beside the confirmation codes and the rest.
		p("STATUS\tUSERS\t\tINVITATIONS\tOTHERS")
		for _, st := range s.StatusOrder() {
			p("%s\t%d\t%s\t%d\t%d", st, s.Statuses[st], pct(s.Statuses[st], s.Users), s.Invitations[st],
				s.Statuses[st]-s.Invitations[st])
		}
		p("")
		p("invitations\t%d\t(users whose final row is an invitation, AdminCreateUser RESEND; %d sent)", inv,
			s.Invitations[job.StatusSent])
	}
	if codes := s.TopErrorCodes(); len(codes) > 0 {
		p("")
		p("ERROR CODE\tUSERS\t")
		for _, c := range codes {
			p("%s\t%d\t%s", c.Code, c.Users, pct(c.Users, s.Users))
		}
	}
	p("")
	p("FILE\tFORMAT\tROWS\tMALFORMED")
	for _, f := range s.Files {
		foreign := ""
		if f.Foreign {
			foreign = "  (not a report)"
		}
		p("%s\t%s\t%d\t%d%s", f.Path, f.Format, f.Rows, f.Malformed, foreign)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.MalformedLines > 0 {
		fmt.Fprintf(w, "\n%d malformed lines (not rows; skipped):\n", s.MalformedLines)
		for _, m := range s.Malformed {
			fmt.Fprintf(w, "  %s\n", m)
		}
		if n := s.MalformedLines - len(s.Malformed); n > 0 {
			fmt.Fprintf(w, "  … and %d more (the first %d of each file are named)\n", n, MalformedListed)
		}
	}
	return nil
}

// duplicateNote, on the duplicate status's line, says where the duplicate rows are: a
// user's final status is its other row's, so the line reads 0 beside the run's
// duplicate=N.
func duplicateNote(st job.Status, s Summary) string {
	if st != job.StatusDuplicate || s.DuplicateRows == 0 || s.Statuses[st] > 0 {
		return ""
	}
	return "  (users whose final row is duplicate; the duplicate rows: above)"
}

func pct(n, of int) string {
	if of == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

// caseWhy says where the merge's case rule comes from (Set.keyCase).
func caseWhy(c string, unrecorded bool) string {
	switch {
	case c == records.CaseInsensitiveName:
		return "usernames compared case-insensitively, as the campaign's dedupe did"
	case unrecorded:
		return "usernames compared case-sensitively: a file does not record the campaign's rule " +
			"(a ledger export, or a report older than the record)"
	}
	return "usernames compared case-sensitively, as the campaign's dedupe did"
}
