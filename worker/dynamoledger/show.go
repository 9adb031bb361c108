package dynamoledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/clock"
)

// Shown is one user's line of `ledger show`.
type Shown struct {
	Username string
	Found    bool
	Record   Record
}

// Show reads the records of usernames (strongly consistent) in table (in region, which
// api's client is in), for the support question "did we send X a code?"; c is how the
// pool compares usernames. A table that does not exist is a *MissingError.
// Its retries wait on clk.
func Show(ctx context.Context, api DynamoDBReadAPI, table, region, clientID string, c admit.Case, usernames []string,
	clk clock.Clock) ([]Shown, error) {
	call := caller{table: table, region: region, timeout: CallTimeoutDefault, policy: RetryDefault,
		clock: clock.Must(clk, "dynamoledger.Show")}
	out := make([]Shown, 0, len(usernames))
	for _, u := range usernames {
		rec, found, err := getRecord(ctx, api, call, table, userKey(clientID, c, u))
		if err != nil {
			return out, missing(err, call)
		}
		out = append(out, Shown{Username: u, Found: found, Record: rec})
	}
	return out, nil
}

// Line renders a Shown as one line: the state, the outcome, when, and which campaign and
// replica, judged at now.
func (sh Shown) Line(now time.Time) string {
	if !sh.Found {
		return sh.Username + "  no record: never claimed through this table and client, or its record expired"
	}
	r := sh.Record
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	var b strings.Builder
	b.WriteString(sh.Username + "  " + string(r.State))
	switch r.State {
	case StateSent:
		fmt.Fprintf(&b, "  sent at %s", ts(r.SentAt))
	case StateInProgress:
		if r.LeaseUntil.After(now) {
			fmt.Fprintf(&b, "  being sent now (lease until %s)", ts(r.LeaseUntil))
		} else {
			fmt.Fprintf(&b, "  lease ran out at %s: may have been sent (reported unknown)", ts(r.LeaseUntil))
		}
	case StateUnknown:
		fmt.Fprintf(&b, "  may have been sent, by %s at the latest", ts(r.LeaseUntil))
	case StateReleased:
		b.WriteString("  not sent")
	}
	if r.Outcome != "" {
		fmt.Fprintf(&b, "  outcome=%s", r.Outcome)
	}
	if r.ErrorCode != "" {
		fmt.Fprintf(&b, "  error_code=%s", r.ErrorCode)
	}
	if r.Attempts > 0 {
		fmt.Fprintf(&b, "  attempts=%d", r.Attempts)
	}
	fmt.Fprintf(&b, "  campaign=%q  replica=%q  updated %s", r.Campaign, r.Owner, ts(r.UpdatedAt))
	if r.ExpiresAt.IsZero() {
		b.WriteString("  expires never")
	} else {
		fmt.Fprintf(&b, "  expires %s", ts(r.ExpiresAt))
	}
	return b.String()
}
