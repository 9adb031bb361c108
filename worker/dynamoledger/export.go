package dynamoledger

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger/attr"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// ExportOptions selects the records of `ledger export`.
type ExportOptions struct {
	Campaign string // required: the campaign whose report is rebuilt
	ClientID string // only this app client's users; "" all
	Now      time.Time
	Clock    clock.Clock
}

// Exported is a campaign's report rebuilt from the table: one row per user with an
// outcome, and the users without one.
type Exported struct {
	Rows []job.Result
	// InProgress: claimed, the lease running: being sent now (no row yet).
	InProgress []string
	// Pending: given back without an outcome (held, or the invocation's deadline): the
	// message is still in its queue, or in the DLQ.
	Pending []string
	Scanned int
}

// Export reads the records of opts.Campaign: every user the campaign claimed, as the row
// its record's last state gives (SentAt, UpdatedAt stamp it; the record keeps the
// status, error code, attempts and which message the claim sent, not Cognito's answer or
// delivery details). A user another campaign claimed since is that campaign's.
func Export(ctx context.Context, api DynamoDBReadAPI, table, region string, opts ExportOptions) (Exported, error) {
	if opts.Campaign == "" {
		return Exported{}, errors.New("the campaign id is required")
	}
	names := map[string]string{"#pk": AttrPK, "#campaign": attrCampaign}
	values := map[string]types.AttributeValue{":user": attr.S(userPrefix), ":campaign": attr.S(opts.Campaign)}
	filter := "begins_with(#pk, :user) AND #campaign = :campaign"
	if opts.ClientID != "" {
		names["#client_id"] = attrClientID
		values[":client_id"] = attr.S(opts.ClientID)
		filter += " AND #client_id = :client_id"
	}
	var out Exported
	scanned, err := scanRecords(ctx, api, table, region, opts.Clock, filter, names, values, func(r Record) bool {
		row, ok := r.Result(opts.Now)
		switch {
		case ok:
			out.Rows = append(out.Rows, row)
		case r.State == StateInProgress:
			out.InProgress = append(out.InProgress, r.Username)
		default:
			out.Pending = append(out.Pending, r.Username)
		}
		return true
	})
	out.Scanned = scanned
	return out, err
}

// Result is the report row of a record at now, and whether it has one: SENT is sent;
// UNKNOWN, or IN_PROGRESS whose lease ran out, is unknown (a call may have reached
// Cognito); RELEASED with an outcome is that outcome (failed, user_not_found, …). A live
// claim and a claim given back without an outcome have no row.
func (r Record) Result(now time.Time) (job.Result, bool) {
	row := job.Result{Username: r.Username, Attempts: r.Attempts, ErrorCode: r.ErrorCode, SourceRef: "ledger:" + r.Campaign,
		StartedAt: r.ClaimedAt, FinishedAt: r.UpdatedAt, Message: r.Message}
	state, lapsed := r.Effective(now)
	switch {
	case r.State == StateSent:
		row.Status = job.StatusSent
		if !r.SentAt.IsZero() {
			row.FinishedAt = r.SentAt
		}
	case state == "unknown":
		row.Status, row.ErrorCode = job.StatusUnknown, "Unknown"
		if lapsed {
			row.FinishedAt = r.LeaseUntil
			row.ErrorMessage = "claimed, and its holder's lease ran out before an outcome was recorded: the user may have received " +
				r.Message.Noun()
		} else {
			row.ErrorMessage = "the last call's answer leaves open whether " + r.Message.Noun() + " was sent"
		}
	case r.State == StateReleased && r.Outcome != "":
		row.Status = r.Outcome
	default:
		return job.Result{}, false
	}
	return row, true
}

// Campaigns are the campaigns the table's user records name, with their users, most
// first (then by name): what `ledger export` names when its --campaign has no record
// (a misspelt id would otherwise export an empty report). clientID ("" all) keeps its
// users only. A Scan reading only each record's campaign.
func Campaigns(ctx context.Context, api DynamoDBReadAPI, table, region, clientID string, clk clock.Clock) ([]CampaignUsers, error) {
	names := map[string]string{"#pk": AttrPK, "#campaign": attrCampaign}
	values := map[string]types.AttributeValue{":user": attr.S(userPrefix)}
	filter := "begins_with(#pk, :user)"
	if clientID != "" {
		names["#client_id"] = attrClientID
		values[":client_id"] = attr.S(clientID)
		filter += " AND #client_id = :client_id"
	}
	users := map[string]int{}
	_, err := scanProjected(ctx, api, table, region, clk, filter, "#campaign", names, values, func(r Record) bool {
		users[r.Campaign]++
		return true
	})
	out := make([]CampaignUsers, 0, len(users))
	for c, n := range users {
		out = append(out, CampaignUsers{Campaign: c, Users: n})
	}
	slices.SortFunc(out, func(a, b CampaignUsers) int {
		return cmp.Or(cmp.Compare(b.Users, a.Users), strings.Compare(a.Campaign, b.Campaign))
	})
	return out, err
}

// CampaignUsers is a campaign of the table and how many user records name it.
type CampaignUsers struct {
	Campaign string
	Users    int
}
