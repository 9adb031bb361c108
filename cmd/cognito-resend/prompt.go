package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/cognito-resend/cognito-resend/worker/campaign"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
	"github.com/cognito-resend/cognito-resend/worker/words"
)

// eta is n users at rate, in whole seconds rounded up (campaign.Census.ETA).
func eta(n int, rate float64) time.Duration { return campaign.Census{ToSend: n}.ETA(rate) }

func printCensus(w io.Writer, c campaign.Census, rate float64) {
	if c.WithInvitations && (c.Verify == nil || c.Verify.Idle == "") {
		fmt.Fprintf(w, "dry run: no ResendConfirmationCode call was made; 1 AdminCreateUser call, the --invitations permission check for a name no one has (nobody gets a message)\n")
	} else {
		fmt.Fprintf(w, "dry run: no ResendConfirmationCode call was made\n")
	}
	if c.Header != "" {
		fmt.Fprintf(w, "header:      %s\n", c.Header)
	}
	if c.Skipped > 0 { // a resume: the lines the report settles are not read again
		what := "line"
		if c.Listing != nil {
			what = "user" // the pool's
		}
		fmt.Fprintf(w, "rows read:   %d, and %s skipped (settled by the report: %s)\n", c.Read, words.Count(int64(c.Skipped), what),
			"a row, or an intent with no row (unknown)")
	} else {
		fmt.Fprintf(w, "rows read:   %d\n", c.Read)
	}
	fmt.Fprintf(w, "to send:     %d\n", c.ToSend)
	if c.WithInvitations && c.Split() {
		fmt.Fprintf(w, "  by message: %s\n", messages(c.Confirmations, c.Invitations))
	}
	if c.Again > 0 {
		fmt.Fprintf(w, "  again:     %d (called before, or not: their latest row is failed, limit_exceeded, unknown or, with --invitations, not_eligible FORCE_CHANGE_PASSWORD)\n", c.Again)
	}
	if c.Unknown > 0 {
		fmt.Fprintf(w, "unknown:     %d written `unknown`, not called (an intent and no row: their call may have reached Cognito; --retry-unknown calls them): %s\n",
			c.Unknown, nameSome(c.UnknownUsers, maxNamed))
	}
	fmt.Fprintf(w, "invalid:     %d\n", c.Invalid)
	fmt.Fprintf(w, "duplicates:  %d\n", c.Duplicates)
	if c.Ineligible > 0 {
		fmt.Fprintf(w, "not to send: %d (disabled in the pool's listing: a row each, no call)\n", c.Ineligible)
	}
	printVerify(w, c)
	if l := c.Listing; l != nil {
		how := "listed now: " + words.Count(l.Pages, "ListUsers call")
		if !l.Listed {
			how = fmt.Sprintf("read back from the snapshot listed at %s: no ListUsers call", l.ListedAt.UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(w, "pool:        %d users (%s; bills no user)\n", l.Users, how)
		if l.Snapshot != "" {
			fmt.Fprintf(w, "snapshot:    %s (the run with this --report within %s reads it instead of listing the pool again; --resume always does)\n",
				l.Snapshot, campaign.SnapshotFresh)
		}
	}
	printInvitationNotes(w, c)
	if c.UsernameCase != "" {
		fmt.Fprintf(w, "usernames:   %s\n", strings.TrimPrefix(c.UsernameCase, "usernames "))
	}
	if c.LimitWaiting > 0 {
		fmt.Fprintf(w, "waiting:     %d limit_exceeded within their hour, not called (all past it at %s)\n",
			c.LimitWaiting, c.LimitDue.UTC().Format(time.RFC3339))
	}
	if c.WithInvitations && c.Split() && c.Invitations > 0 && c.InvitationRate > 0 {
		fmt.Fprintf(w, "ETA:         %s (confirmation codes at %g/s, invitations at %g/s beside them)%s\n",
			span(c.ETA(rate)), rate, c.InvitationRate, lookupsPart(c, " (", ")"))
		return
	}
	fmt.Fprintf(w, "ETA:         %s at %g/s%s\n", span(c.ETA(rate)), rate, lookupsPart(c, " (", ")"))
}

// printInvitationNotes says, in the dry run and again in the prompt, what an invitation
// does to the user's password, and warns when --invitation-delivery is unset.
func printInvitationNotes(w io.Writer, c campaign.Census) {
	if !c.WithInvitations {
		return
	}
	fmt.Fprintf(w, "invitations: admin-created users (FORCE_CHANGE_PASSWORD) get their invitation again (AdminCreateUser RESEND): a NEW temporary password, the old one stops working\n")
	if c.InvitationDelivery == "" {
		fmt.Fprintf(w, "WARNING:     --invitation-delivery is unset: Cognito then sends the invitation by SMS, and a user without a phone number gets nothing (their row: failed); set --invitation-delivery EMAIL (or SMS to confirm)\n")
	}
}

// lookupsPart says what of the ETA is the census's lookups ("" without any): open and
// end wrap it (" (" and ")" after the dry run's ETA, "; " and "" inside the prompt's
// brackets: never brackets in brackets).
func lookupsPart(c campaign.Census, open, end string) string {
	if c.Verify == nil || c.Verify.Lookups == 0 || c.Verify.ListRate <= 0 {
		return ""
	}
	return fmt.Sprintf("%s%s of it: %s at --list-rate %g%s", open, span(c.LookupsETA()),
		words.Count(int64(c.Verify.Lookups), "ListUsers lookup"), c.Verify.ListRate, end)
}

// printVerify says how --verify-users reads each user's state and what it costs.
func printVerify(w io.Writer, c campaign.Census) {
	v := c.Verify
	switch {
	case v == nil:
		return
	case v.Idle != "":
		fmt.Fprintf(w, "checked:     nothing (--verify-users): %s\n", v.Idle)
		fmt.Fprintf(w, "reads:       no ListUsers or AdminGetUser call: no census of the pool, no start-up check\n")
	case v.With == userpool.VerifyWithAdminGetUser:
		fmt.Fprintf(w, "checked:     each user first with AdminGetUser at %g/s (--verify-users); who can't receive a code gets a row, no resend\n", c.CheckRate)
		fmt.Fprintf(w, "reads:       %d AdminGetUser calls, one per user to send (in the run), and 1 made now to check the "+
			"permission (for a name no one has: bills no user)\n", v.AdminGetUser)
		fmt.Fprintf(w, "WARNING:     %s\n", campaign.MAUWarning)
	case c.CheckRate > 0:
		fmt.Fprintf(w, "checked:     each user first with a ListUsers lookup by name at %g/s (--verify-users); who can't receive a code gets a row, no resend\n", c.CheckRate)
		fmt.Fprintf(w, "reads:       up to %d ListUsers lookups, one per user; none of them bills a user\n", c.ToSend)
		if v.NoCensus != "" {
			fmt.Fprintf(w, "no census:   %s\n", v.NoCensus)
		}
	default:
		fmt.Fprintf(w, "checked:     census of the pool by ListUsers (--verify-users): %d users in %s listed; %d of the CSV's users placed, no call each\n",
			v.CensusUsers, strings.Join(v.States, ", "), v.Placed)
		fmt.Fprintf(w, "looked up:   %d (not in the census: a ListUsers lookup each tells confirmed, unknown, disabled and admin-created users apart; none is sent a code)\n", v.Lookups)
		fmt.Fprintf(w, "reads:       %s: %d for the census (made), %s (in the run); none of them bills a user\n",
			words.Count(v.CensusPages+int64(v.Lookups), "ListUsers call"), v.CensusPages, words.Count(int64(v.Lookups), "lookup"))
	}
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// errDeclined: the operator answered no at the prompt.
var errDeclined = errors.New("not confirmed; nothing was sent")

// errInterrupted: a signal (Ctrl-C) at the prompt, a no like any other answer but y.
var errInterrupted = errors.New("not confirmed (interrupted); nothing was sent")

// messages says how many of each message go out: "120 confirmation codes and 30
// invitations"; a kind with none is left out ("1 invitation"), unless both are none.
func messages(confirmations, invitations int) string {
	codes, invites := words.Count(int64(confirmations), "confirmation code"), words.Count(int64(invitations), "invitation")
	switch {
	case invitations == 0 && confirmations > 0:
		return codes
	case confirmations == 0 && invitations > 0:
		return invites
	}
	return codes + " and " + invites
}

// confirm asks the operator on the terminal about the census's users to send, again of
// them called before. Anything but y/yes is a no; so is a signal (stop done) while it
// waits or before the answer is read: the terminal's Ctrl-C does not end the read, so the
// answer is read aside and the first signal ends the prompt at once.
func confirm(stop context.Context, in io.Reader, out io.Writer, c campaign.Census, rate float64) error {
	n, again := c.ToSend, c.Again
	users := words.Count(int64(n), "user")
	if again > 0 {
		users += fmt.Sprintf(" (%d of them again)", again)
	}
	what := "resend confirmation codes to " + users
	switch {
	case c.WithInvitations && c.Split():
		what = fmt.Sprintf("send %s to %s", messages(c.Confirmations, c.Invitations), users)
	case c.WithInvitations:
		what = "resend confirmation codes or invitations (each user's state decides) to " + users
	}
	printInvitationNotes(out, c) // the prompt repeats what the dry run said of invitations
	pace := fmt.Sprintf("%g/s", rate)
	if c.WithInvitations && c.InvitationRate > 0 {
		pace += fmt.Sprintf(" (invitations at %g/s beside them)", c.InvitationRate)
	}
	// The ETA is the dry run's (campaign.Census.ETA), for both messages.
	fmt.Fprintf(out, "About to %s at %s (about %s%s). Continue? [y/N] ", what, pace, span(c.ETA(rate)), lookupsPart(c, "; ", ""))
	type answer struct {
		line string
		err  error
	}
	read := make(chan answer, 1) // the reader never blocks: it may outlive a signal
	go func() {
		line, err := bufio.NewReader(in).ReadString('\n')
		read <- answer{line, err}
	}()
	var a answer
	select {
	case <-stop.Done():
		fmt.Fprintln(out) // past the prompt's line (the terminal shows ^C there)
		return errInterrupted
	case a = <-read:
	}
	if stop.Err() != nil { // a y typed with the signal still starts nothing
		return errInterrupted
	}
	if a.err != nil && !errors.Is(a.err, io.EOF) {
		return a.err
	}
	switch strings.ToLower(strings.TrimSpace(a.line)) {
	case "y", "yes":
		return nil
	}
	return errDeclined
}
