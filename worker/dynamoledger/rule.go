package dynamoledger

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/dynamoledger/attr"
)

// The claim rule, written once in its two forms: the condition DynamoDB evaluates
// atomically on the claim's put, and claimable, which judges a record read back after a
// lost claim. A record blocks a claim unless
//
//   - there is none, or it is RELEASED;
//   - it has expired: expires_at (the writer's --cooldown, or its --ledger-retention when
//     longer, after the send or after the last moment a call may have landed) is past;
//   - its send, or the last moment its call may have landed, is older than this run's
//     --cooldown (when not 0): an operator may resend sooner than the writer's
//     retention, never later than the record's expiry (TTL deletes it then). With the
//     retention longer than the cooldown (30 days against 24 h by default), this is
//     the clause that frees a user after the cooldown; the record stays readable.
//
// Expiry is decided here, from the attributes, never by whether the item still exists:
// TTL deletion is lazy (and dynalite has none).
type rule struct {
	cooldown time.Duration // this run's; 0: only the record's own expiry
}

// condition is the claim's condition expression with its names and values at now.
func (r rule) condition(now time.Time) (string, map[string]string, map[string]types.AttributeValue) {
	expr := "attribute_not_exists(#pk) OR #state = :released OR #expires_at < :now_s"
	names := map[string]string{"#pk": AttrPK, "#state": attrState, "#expires_at": AttrExpiresAt}
	values := map[string]types.AttributeValue{":released": attr.S(string(StateReleased)), ":now_s": attr.N(now.Unix())}
	if r.cooldown > 0 {
		expr += " OR (#state = :sent AND #sent_at < :cutoff)" +
			" OR ((#state = :in_progress OR #state = :unknown) AND #lease_until < :cutoff)"
		names["#sent_at"], names["#lease_until"] = attrSentAt, attrLeaseUntil
		values[":sent"], values[":in_progress"], values[":unknown"] =
			attr.S(string(StateSent)), attr.S(string(StateInProgress)), attr.S(string(StateUnknown))
		values[":cutoff"] = attr.Ms(now.Add(-r.cooldown))
	}
	return expr, names, values
}

// claimable is condition, judged in Go on a record read back.
func (r rule) claimable(rec Record, now time.Time) bool {
	switch {
	case rec.State == StateReleased:
		return true
	case !rec.ExpiresAt.IsZero() && rec.ExpiresAt.Unix() < now.Unix():
		return true
	case r.cooldown <= 0:
		return false
	}
	cutoff := now.Add(-r.cooldown).UnixMilli()
	switch rec.State {
	case StateSent:
		return !rec.SentAt.IsZero() && rec.SentAt.UnixMilli() < cutoff
	case StateInProgress, StateUnknown:
		return !rec.LeaseUntil.IsZero() && rec.LeaseUntil.UnixMilli() < cutoff
	}
	return false
}

// expiresAt is the expires_at a record gets when its last possible send is at t: t plus
// keep (Config.keep: the writer's cooldown or retention), in whole seconds rounded up;
// nil (never) for keep 0.
func expiresAt(t time.Time, keep time.Duration) types.AttributeValue {
	if keep <= 0 {
		return nil
	}
	e := t.Add(keep)
	sec := e.Unix()
	if e.Nanosecond() > 0 {
		sec++
	}
	return attr.N(sec)
}
