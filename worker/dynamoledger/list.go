package dynamoledger

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger/attr"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// ListLimitDefault and ListLimitMax bound `ledger list --limit`: the records printed.
const (
	ListLimitDefault = 1000
	ListLimitMax     = 100000
)

// ListStates are the values of `ledger list --state` that select by the record's state;
// every report status (failed, limit_exceeded, user_not_found, …) selects by the outcome
// of the record's last call.
//
//	sent         SENT: a code went out at sent_at
//	unknown      UNKNOWN, or IN_PROGRESS whose lease ran out: a call may have reached
//	             Cognito and nothing says whether (reported unknown; --retry-unknown)
//	in_progress  IN_PROGRESS with a live lease: being sent now
//	released     RELEASED: given back, no code sent (its outcome says why)
var ListStates = []string{"sent", "unknown", "in_progress", "released"}

// ValidListState says why s can't be a `ledger list --state` ("" if it can).
func ValidListState(s string) string {
	if slices.Contains(ListStates, s) || (slices.Contains(job.Statuses, job.Status(s)) && s != string(job.StatusRecentlySent) && s != string(job.StatusDuplicate)) {
		return ""
	}
	var outcomes []string
	for _, st := range job.Statuses {
		if !slices.Contains(ListStates, string(st)) && st != job.StatusRecentlySent && st != job.StatusDuplicate {
			outcomes = append(outcomes, string(st))
		}
	}
	return fmt.Sprintf("must be a state (%s) or a last outcome (%s)", strings.Join(ListStates, ", "), strings.Join(outcomes, ", "))
}

// ListOptions selects the records of `ledger list`.
type ListOptions struct {
	State    string // see ListStates; required
	Campaign string // only this campaign's records; "" all
	ClientID string // only this app client's users; "" all
	Limit    int    // records returned at most; 0: ListLimitDefault
	Now      time.Time
	Clock    clock.Clock // the retries' waits; nil: the real one (a one-off command)
}

// Listed is the answer of List.
type Listed struct {
	Records []Record
	// More: records beyond Limit match (the scan stopped there).
	More bool
	// Scanned is the number of items read.
	Scanned int
}

// List scans table (in region, which api's client is in) for the user records that
// opts selects, page by page (each page a call through the one retry layer), until
// opts.Limit match or the table ends. A Scan reads the whole table (every user record
// the retention keeps): it is an operator's question, not a campaign's. A table that
// does not exist is a *MissingError.
func List(ctx context.Context, api DynamoDBReadAPI, table, region string, opts ListOptions) (Listed, error) {
	if msg := ValidListState(opts.State); msg != "" {
		return Listed{}, fmt.Errorf("state %q: %s", opts.State, msg)
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = ListLimitDefault
	}
	filter, names, values := listFilter(opts)
	var out Listed
	scanned, err := scanRecords(ctx, api, table, region, opts.Clock, filter, names, values, func(r Record) bool {
		if len(out.Records) == limit {
			out.More = true
			return false
		}
		out.Records = append(out.Records, r)
		return true
	})
	out.Scanned = scanned
	return out, err
}

// scanRecords scans table for the items filter selects, page by page (each page a call
// through the one retry layer), handing each to each until it returns false or the table
// ends; it returns the items read. A table that does not exist is a *MissingError.
func scanRecords(ctx context.Context, api DynamoDBReadAPI, table, region string, clk clock.Clock, filter string,
	names map[string]string, values map[string]types.AttributeValue, each func(Record) bool) (int, error) {
	return scanProjected(ctx, api, table, region, clk, filter, "", names, values, each)
}

// scanProjected is scanRecords reading only the attributes of projection ("" all).
func scanProjected(ctx context.Context, api DynamoDBReadAPI, table, region string, clk clock.Clock, filter, projection string,
	names map[string]string, values map[string]types.AttributeValue, each func(Record) bool) (int, error) {
	call := caller{table: table, region: region, timeout: CallTimeoutDefault, policy: RetryDefault, clock: clock.Must(clk, "dynamoledger.List, Export")}
	scanned := 0
	var start map[string]types.AttributeValue
	for {
		var page *dynamodb.ScanOutput
		err := call.do(ctx, "scan", func(ctx context.Context) error {
			var err error
			in := &dynamodb.ScanInput{
				TableName: aws.String(table), FilterExpression: aws.String(filter),
				ExpressionAttributeNames: names, ExpressionAttributeValues: values,
				ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
			}
			if projection != "" {
				in.ProjectionExpression = aws.String(projection)
			}
			page, err = api.Scan(ctx, in)
			return err
		})
		if err != nil {
			return scanned, missing(err, call)
		}
		scanned += int(page.ScannedCount)
		for _, it := range page.Items {
			if !each(parseRecord(it)) {
				return scanned, nil
			}
		}
		if start = page.LastEvaluatedKey; len(start) == 0 {
			return scanned, nil
		}
	}
}

// listFilter is the Scan's filter of opts: user records only, then the state or the
// outcome, the campaign and the client.
func listFilter(opts ListOptions) (string, map[string]string, map[string]types.AttributeValue) {
	names := map[string]string{"#pk": AttrPK}
	values := map[string]types.AttributeValue{":user": attr.S(userPrefix)}
	conds := []string{"begins_with(#pk, :user)"}
	state := func(s State) string {
		names["#state"] = attrState
		values[":"+strings.ToLower(string(s))] = attr.S(string(s))
		return "#state = :" + strings.ToLower(string(s))
	}
	lease := func(op string) string {
		names["#lease_until"] = attrLeaseUntil
		values[":now"] = attr.Ms(opts.Now)
		return "#lease_until " + op + " :now"
	}
	switch opts.State {
	case "sent":
		conds = append(conds, state(StateSent))
	case "released":
		conds = append(conds, state(StateReleased))
	case "in_progress":
		conds = append(conds, state(StateInProgress), lease(">="))
	case "unknown":
		conds = append(conds, "("+state(StateUnknown)+" OR ("+state(StateInProgress)+" AND "+lease("<")+"))")
	default:
		names["#outcome"] = attrOutcome
		values[":outcome"] = attr.S(opts.State)
		conds = append(conds, "#outcome = :outcome")
	}
	if opts.Campaign != "" {
		names["#campaign"] = attrCampaign
		values[":campaign"] = attr.S(opts.Campaign)
		conds = append(conds, "#campaign = :campaign")
	}
	if opts.ClientID != "" {
		names["#client_id"] = attrClientID
		values[":client_id"] = attr.S(opts.ClientID)
		conds = append(conds, "#client_id = :client_id")
	}
	return strings.Join(conds, " AND "), names, values
}

// Effective is the record's state at now, as `ledger list --state` names it, and whether
// it is an IN_PROGRESS record whose lease ran out: unknown (a call may have reached
// Cognito; the next campaign that meets it reports it unknown).
func (r Record) Effective(now time.Time) (state string, lapsed bool) {
	if r.State == StateInProgress && !r.LeaseUntil.After(now) {
		return "unknown", true
	}
	return strings.ToLower(string(r.State)), false
}

// ListedRecord is a record as `ledger list --json` writes it: one JSON object a line.
type ListedRecord struct {
	Username    string `json:"username"`
	ClientID    string `json:"client_id"`
	State       string `json:"state"`                   // Effective
	LeaseRanOut bool   `json:"lease_ran_out,omitempty"` // IN_PROGRESS in the table, its owner gone
	Outcome     string `json:"outcome,omitempty"`
	ErrorCode   string `json:"error_code,omitempty"`
	Attempts    int    `json:"attempts"`
	Message     string `json:"message,omitempty"` // confirmation or invitation ("" in records written before it was kept)
	Campaign    string `json:"campaign"`
	Replica     string `json:"replica"`
	ClaimedAt   string `json:"claimed_at,omitempty"`
	SentAt      string `json:"sent_at,omitempty"`
	LeaseUntil  string `json:"lease_until,omitempty"`
	UpdatedAt   string `json:"updated_at,omitempty"`
	ExpiresAt   string `json:"expires_at,omitempty"` // "": never
}

// JSON is r as ListedRecord, judged at now.
func (r Record) JSON(now time.Time) ListedRecord {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	state, lapsed := r.Effective(now)
	return ListedRecord{Username: r.Username, ClientID: r.ClientID, State: state, LeaseRanOut: lapsed, Outcome: string(r.Outcome),
		ErrorCode: r.ErrorCode, Attempts: r.Attempts, Message: string(r.Message), Campaign: r.Campaign, Replica: r.Owner,
		ClaimedAt: ts(r.ClaimedAt), SentAt: ts(r.SentAt), LeaseUntil: ts(r.LeaseUntil), UpdatedAt: ts(r.UpdatedAt),
		ExpiresAt: ts(r.ExpiresAt)}
}

// ListColumns are the columns of `ledger list`'s table, and Row a record's cells.
var ListColumns = []string{"USERNAME", "STATE", "OUTCOME", "ERROR_CODE", "ATTEMPTS", "UPDATED", "CAMPAIGN", "REPLICA", "EXPIRES"}

// Row is r's cells under ListColumns, judged at now ("-" for none).
func (r Record) Row(now time.Time) []string {
	j := r.JSON(now)
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	exp := j.ExpiresAt
	if exp == "" {
		exp = "never"
	}
	state := j.State
	if j.LeaseRanOut {
		state += " (lease ran out)"
	}
	return []string{j.Username, state, dash(j.Outcome), dash(j.ErrorCode), fmt.Sprint(j.Attempts), dash(j.UpdatedAt),
		dash(j.Campaign), dash(j.Replica), exp}
}
