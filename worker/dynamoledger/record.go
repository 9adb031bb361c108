package dynamoledger

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger/attr"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// The table's key schema: pk (S, hash) + sk (S, range). A user's record is
// pk = "user#<client id>#<username as the pool compares it>", sk = "claim"; other kinds of
// record (a fleet's replica heartbeats: pk = "fleet#<name>", sk = "replica#<id>") share
// the table and can be read with one Query on their pk.
const (
	AttrPK = "pk"
	AttrSK = "sk"

	userPrefix = "user#"
	claimSK    = "claim"
)

// Attributes of a user's record.
const (
	attrState      = "state"       // State
	attrOwner      = "owner"       // replica id of the claim's holder
	attrClaimID    = "claim_id"    // random per claim: a retried write recognises its own
	attrCampaign   = "campaign"    // campaign id
	attrClientID   = "client_id"   // app client id (also in pk)
	attrUsername   = "username"    // as the source gave it
	attrMessage    = "message"     // job.Message the claim sends: an unknown row names it (absent in records before it was kept: a code)
	attrLeaseUntil = "lease_until" // ms: the claim's lease (IN_PROGRESS), or when the last call may have landed (UNKNOWN)
	attrClaimedAt  = "claimed_at"  // ms
	attrSentAt     = "sent_at"     // ms (SENT)
	attrOutcome    = "outcome"     // report status of the last outcome
	attrErrorCode  = "error_code"
	attrAttempts   = "attempts"
	attrUpdatedAt  = "updated_at" // ms
	// AttrExpiresAt (epoch seconds) is the TTL attribute: the record no longer blocks a
	// claim after it, and DynamoDB deletes it some time later. Absent with --cooldown 0.
	AttrExpiresAt = "expires_at"
)

// State is where a user's record stands.
type State string

const (
	// StateInProgress: claimed; a call may be under way (lease_until says until when
	// the holder is alive).
	StateInProgress State = "IN_PROGRESS"
	// StateSent: the user was sent a code at sent_at.
	StateSent State = "SENT"
	// StateReleased: given back (no call could have landed, or an outcome other than
	// sent): anyone may claim it.
	StateReleased State = "RELEASED"
	// StateUnknown: a call may have landed and no outcome says whether (an expired lease
	// met by another owner, or a timeout/5xx as the last answer).
	StateUnknown State = "UNKNOWN"
)

// Record is one user's record as read from the table.
type Record struct {
	Username, ClientID string
	State              State
	Owner, Campaign    string
	ClaimID            string
	LeaseUntil         time.Time
	ClaimedAt          time.Time
	SentAt             time.Time
	UpdatedAt          time.Time
	ExpiresAt          time.Time // zero: never
	Outcome            job.Status
	ErrorCode          string
	Attempts           int
	Message            job.Message // what the claim was to send ("" in records written before it was kept)
}

// userKey is the primary key of a user's record: the username as the pool compares it
// (lowercased in a case-insensitive pool: the campaign's username case rule).
func userKey(clientID string, c admit.Case, username string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: attr.S(userPrefix + clientID + "#" + c.Key(username)),
		AttrSK: attr.S(claimSK),
	}
}

// parseRecord reads an item of the table.
func parseRecord(item map[string]types.AttributeValue) Record {
	r := Record{
		Username: attr.GetS(item, attrUsername), ClientID: attr.GetS(item, attrClientID),
		State: State(attr.GetS(item, attrState)), Owner: attr.GetS(item, attrOwner), Campaign: attr.GetS(item, attrCampaign),
		ClaimID: attr.GetS(item, attrClaimID), LeaseUntil: attr.GetMs(item, attrLeaseUntil), ClaimedAt: attr.GetMs(item, attrClaimedAt),
		SentAt: attr.GetMs(item, attrSentAt), UpdatedAt: attr.GetMs(item, attrUpdatedAt),
		Outcome: job.Status(attr.GetS(item, attrOutcome)), ErrorCode: attr.GetS(item, attrErrorCode),
		Message: job.Message(attr.GetS(item, attrMessage)),
	}
	if v, ok := attr.GetN(item, AttrExpiresAt); ok {
		r.ExpiresAt = time.Unix(v, 0).UTC()
	}
	if v, ok := attr.GetN(item, attrAttempts); ok {
		r.Attempts = int(v)
	}
	return r
}
