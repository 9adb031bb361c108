package dynamoledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger/attr"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// claimRounds bounds the put → read → judge rounds of one claim, with a short pause
// between them: a record that keeps changing under us (released, expired, taken between
// our put and our read) makes the job come back later instead.
var claimRounds = pacing.Policy{Attempts: 4, Base: 20 * time.Millisecond, Max: 80 * time.Millisecond}

// errRecordChanged is a round of Claim that found the record changed between its put
// and its read-back: the next round claims again.
var errRecordChanged = errors.New("the record changed between the claim and its read-back")

// Ledger is the shared claim table: the engine's Ledger for a fleet, for campaigns that
// share users, and for "run it again tomorrow". A user is claimed with one conditional
// put before the first call; the outcome is one conditional update after the row is
// durable. Safe for concurrent use.
type Ledger struct {
	cfg   Config
	api   DynamoDBAPI
	log   *slog.Logger
	clock clock.Clock
	rule  rule
	call  caller

	mu   sync.Mutex
	mine map[string]string // pk → claim id of the claims this process holds
	// unanswered are the claims (pk → claim id) whose put got no answer: it may land
	// later, so Release gives it back like a held claim.
	unanswered map[string]string
}

// New returns the ledger of cfg. It makes no call: Check verifies the table.
func New(cfg Config) (*Ledger, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	return &Ledger{cfg: cfg, api: cfg.API, log: cfg.Logger, clock: cfg.Clock,
		rule: rule{cooldown: cfg.Cooldown},
		call: caller{table: cfg.Table, region: cfg.Region, timeout: cfg.CallTimeout, policy: cfg.Retry, metrics: cfg.Metrics, clock: cfg.Clock},
		mine: map[string]string{}, unanswered: map[string]string{}}, nil
}

// Owner is this process's replica id in the records.
func (l *Ledger) Owner() string { return l.cfg.Owner }

// Lease is a claim's lease.
func (l *Ledger) Lease() time.Duration { return l.cfg.Lease }

// Check verifies the table (Check of the package) before the first claim.
func (l *Ledger) Check(ctx context.Context) error {
	return Check(ctx, l.api, l.cfg.Table, l.call)
}

func pkOf(key map[string]types.AttributeValue) string { return attr.GetS(key, AttrPK) }

func (l *Ledger) hold(pk, claimID string) {
	l.mu.Lock()
	l.mine[pk] = claimID
	l.mu.Unlock()
}

// held is the claim id this process holds on pk ("" if none).
func (l *Ledger) held(pk string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mine[pk]
}

// letGo forgets the claim claimID on pk (not a newer one).
func (l *Ledger) letGo(pk, claimID string) {
	l.mu.Lock()
	if l.mine[pk] == claimID {
		delete(l.mine, pk)
	}
	l.mu.Unlock()
}

// Claim claims j's user: a conditional put wins while no record blocks it (rule.go).
// A lost claim reads the record back (consistent GetItem; a failed condition returns no
// item on every endpoint) and says why: recently sent, busy (a live lease), or expired
// (a lease that ran out: the user may have a code) — which --retry-unknown takes over
// with a condition on the old claim instead.
func (l *Ledger) Claim(ctx context.Context, j job.Job) (job.ClaimVerdict, error) {
	key := userKey(l.cfg.ClientID, l.cfg.Case, j.Username)
	pk := pkOf(key)
	claimID := newClaimID()
	var v job.ClaimVerdict
	err := pacing.Retry(ctx, l.clock, claimRounds, func(ctx context.Context) error {
		var err error
		v, err = l.claimRound(ctx, j, key, pk, claimID)
		return err
	})
	if !errors.Is(err, errRecordChanged) {
		return v, err
	}
	l.log.Info("record kept changing while claiming; trying again later", "username", j.Username)
	return job.ClaimVerdict{Kind: job.Busy, At: l.clock.Now().Add(RenewInterval(l.cfg.Lease))}, nil
}

// claimRound is one put → read → judge round of Claim: a verdict, or errRecordChanged
// (marked retryable) when the record changed between the put and the read.
func (l *Ledger) claimRound(ctx context.Context, j job.Job, key map[string]types.AttributeValue, pk, claimID string) (job.ClaimVerdict, error) {
	now := l.clock.Now()
	cond, names, values := l.rule.condition(now)
	err := l.put(ctx, "claim", l.claimItem(key, j, claimID, now), cond, names, values)
	if err == nil {
		l.hold(pk, claimID)
		return job.ClaimVerdict{Kind: job.Won}, nil
	}
	if !isConditionFailed(err) {
		// The put may still land (a stalled table answers later): Release gives it back.
		l.mu.Lock()
		l.unanswered[pk] = claimID
		l.mu.Unlock()
		return job.ClaimVerdict{}, err
	}
	rec, found, err := l.get(ctx, key)
	if err != nil {
		return job.ClaimVerdict{}, err
	}
	now = l.clock.Now()
	switch {
	case found && rec.ClaimID == claimID:
		l.hold(pk, claimID) // our put landed; its answer was lost and retried
		return job.ClaimVerdict{Kind: job.Won}, nil
	case !found || l.rule.claimable(rec, now):
		return job.ClaimVerdict{}, pacing.Retryable(errRecordChanged) // claim again
	}
	if v, blocks := l.judge(ctx, key, rec, now); blocks {
		return v, nil
	}
	err = l.put(ctx, "take_over", l.claimItem(key, j, claimID, now),
		"#claim_id = :old AND (#state = :unknown OR (#state = :in_progress AND #lease_until < :now))",
		map[string]string{"#claim_id": attrClaimID, "#state": attrState, "#lease_until": attrLeaseUntil},
		map[string]types.AttributeValue{":old": attr.S(rec.ClaimID), ":unknown": attr.S(string(StateUnknown)),
			":in_progress": attr.S(string(StateInProgress)), ":now": attr.Ms(now)})
	switch {
	case err == nil:
		l.log.Warn("--retry-unknown: taking over a claim whose call may have reached Cognito",
			"username", j.Username, "previous_owner", rec.Owner, "previous_campaign", rec.Campaign)
		l.hold(pk, claimID)
		return job.ClaimVerdict{Kind: job.Won}, nil
	case !isConditionFailed(err):
		return job.ClaimVerdict{}, err
	}
	return job.ClaimVerdict{}, pacing.Retryable(errRecordChanged) // the old claim changed: claim again
}

// Peek reads j's record and judges it as a lost claim would (judge), writing nothing
// that says a call may have been made: the engine looks before it takes a rate token,
// so a user sent recently or held by another owner costs one read, and a held user can
// be looked at again often. Won means: no record blocks a claim now (the claim decides).
func (l *Ledger) Peek(ctx context.Context, j job.Job) (job.ClaimVerdict, error) {
	key := userKey(l.cfg.ClientID, l.cfg.Case, j.Username)
	rec, found, err := l.get(ctx, key)
	if err != nil {
		return job.ClaimVerdict{}, err
	}
	now := l.clock.Now()
	if !found || l.rule.claimable(rec, now) {
		return job.ClaimVerdict{Kind: job.Won}, nil
	}
	if v, blocks := l.judge(ctx, key, rec, now); blocks {
		return v, nil
	}
	return job.ClaimVerdict{Kind: job.Won}, nil // --retry-unknown: the claim takes it over
}

// judge is the verdict on a record that blocks a plain claim: recently sent, busy (a
// live lease), or expired. blocks is false only for an expired record under
// --retry-unknown, which the claim takes over.
func (l *Ledger) judge(ctx context.Context, key map[string]types.AttributeValue, rec Record, now time.Time) (v job.ClaimVerdict, blocks bool) {
	switch {
	case rec.State == StateSent:
		return job.ClaimVerdict{Kind: job.RecentlySent, At: rec.SentAt, Owner: rec.Owner, Campaign: rec.Campaign}, true
	case rec.State == StateInProgress && rec.LeaseUntil.After(now):
		return job.ClaimVerdict{Kind: job.Busy, At: rec.LeaseUntil, Owner: rec.Owner, Campaign: rec.Campaign}, true
	}
	// IN_PROGRESS with a lease that ran out, UNKNOWN, or a state this version does not
	// know: the user may have been sent a code.
	if l.cfg.RetryUnknown {
		return job.ClaimVerdict{}, false
	}
	if rec.State == StateInProgress {
		l.markUnknown(ctx, key, rec, now)
	}
	return job.ClaimVerdict{Kind: job.Expired, At: rec.LeaseUntil, Owner: rec.Owner, Campaign: rec.Campaign}, true
}

// claimItem is the record of a new claim: IN_PROGRESS, always with a lease (a record
// without one would block its user for ever: powertools-lambda-python#4759).
func (l *Ledger) claimItem(key map[string]types.AttributeValue, j job.Job, claimID string, now time.Time) map[string]types.AttributeValue {
	lease := now.Add(l.cfg.Lease)
	item := map[string]types.AttributeValue{
		AttrPK: key[AttrPK], AttrSK: key[AttrSK],
		attrState: attr.S(string(StateInProgress)), attrOwner: attr.S(l.cfg.Owner), attrClaimID: attr.S(claimID),
		attrClientID: attr.S(l.cfg.ClientID), attrUsername: attr.S(j.Username), attrMessage: attr.S(string(j.Message.Or())),
		attrLeaseUntil: attr.Ms(lease), attrClaimedAt: attr.Ms(now), attrUpdatedAt: attr.Ms(now),
	}
	if l.cfg.Campaign != "" {
		item[attrCampaign] = attr.S(l.cfg.Campaign)
	}
	if e := expiresAt(lease, l.cfg.keep()); e != nil {
		item[AttrExpiresAt] = e
	}
	return item
}

// markUnknown records that an expired claim was met, so that `ledger show` tells it;
// best effort (the verdict stands either way).
func (l *Ledger) markUnknown(ctx context.Context, key map[string]types.AttributeValue, rec Record, now time.Time) {
	err := l.update(ctx, "mark_unknown", key, "SET #state = :unknown, #updated_at = :now",
		"#claim_id = :old AND #state = :in_progress AND #lease_until < :now",
		map[string]string{"#state": attrState, "#updated_at": attrUpdatedAt, "#claim_id": attrClaimID, "#lease_until": attrLeaseUntil},
		map[string]types.AttributeValue{":unknown": attr.S(string(StateUnknown)), ":now": attr.Ms(now), ":old": attr.S(rec.ClaimID),
			":in_progress": attr.S(string(StateInProgress))})
	if err != nil && !isConditionFailed(err) {
		l.log.Warn("could not mark an expired claim UNKNOWN", "username", rec.Username, "error", err)
	}
}

// Renew extends j's lease (and the record's expiry with it), conditional on the claim
// still being ours. Its retries end before the lease could run out: a claim is never
// kept alive by a call that began after it expired.
func (l *Ledger) Renew(ctx context.Context, j job.Job) error {
	key := userKey(l.cfg.ClientID, l.cfg.Case, j.Username)
	claimID := l.held(pkOf(key))
	if claimID == "" {
		return nil // settled meanwhile: nothing to keep alive
	}
	ctx, cancel := clock.WithTimeout(ctx, l.clock, RenewInterval(l.cfg.Lease))
	defer cancel()
	now := l.clock.Now()
	lease := now.Add(l.cfg.Lease)
	set := "SET #lease_until = :lease, #updated_at = :now"
	names := map[string]string{"#lease_until": attrLeaseUntil, "#updated_at": attrUpdatedAt, "#claim_id": attrClaimID, "#state": attrState}
	values := map[string]types.AttributeValue{":lease": attr.Ms(lease), ":now": attr.Ms(now), ":mine": attr.S(claimID),
		":in_progress": attr.S(string(StateInProgress))}
	if e := expiresAt(lease, l.cfg.keep()); e != nil {
		set += ", #expires_at = :exp"
		names["#expires_at"], values[":exp"] = AttrExpiresAt, e
	}
	err := l.update(ctx, "renew", key, set, "#claim_id = :mine AND #state = :in_progress", names, values)
	if isConditionFailed(err) {
		if l.held(pkOf(key)) != claimID {
			return nil // settled while the renewal was in flight
		}
		l.letGo(pkOf(key), claimID)
		return job.ErrClaimLost
	}
	return err
}

// Finish records the outcome of j's claim once its row is durable: SENT (blocking
// others for the cooldown), UNKNOWN when the last answers leave open whether a code went
// out (a timeout, a 5xx, a reset), RELEASED otherwise (a later campaign may try again).
// A claim that is no longer ours is left to its new owner.
func (l *Ledger) Finish(ctx context.Context, j job.Job, r job.Result) error {
	state, at := StateReleased, l.clock.Now()
	switch {
	case r.Status == job.StatusSent:
		state = StateSent
		if !r.FinishedAt.IsZero() {
			at = r.FinishedAt
		}
	case r.Ambiguous:
		state = StateUnknown
	}
	return l.settle(ctx, "finish", j, state, at, r)
}

// Release gives j's claim back without an outcome: RELEASED when no call can have
// reached Cognito, UNKNOWN when one may have. Best effort: a claim left behind expires,
// and whoever meets it reports the user unknown.
func (l *Ledger) Release(ctx context.Context, j job.Job, mayHaveCalled bool) {
	state := StateReleased
	if mayHaveCalled {
		state = StateUnknown
	}
	if l.releaseUnanswered(ctx, j) {
		return
	}
	if err := l.settle(ctx, "release", j, state, l.clock.Now(), job.Result{}); err != nil {
		l.log.Warn("ledger: claim not given back; it expires after its lease", "username", j.Username, "error", err)
	}
}

// releaseUnanswered gives back j's claim whose put got no answer, if there is one: the
// record is released if that put landed (nothing was called). If the table still
// doesn't answer, the user is named: should the put land later, its claim expires and
// whoever meets it reports the user unknown although no call was made.
func (l *Ledger) releaseUnanswered(ctx context.Context, j job.Job) bool {
	key := userKey(l.cfg.ClientID, l.cfg.Case, j.Username)
	pk := pkOf(key)
	l.mu.Lock()
	claimID, ok := l.unanswered[pk]
	delete(l.unanswered, pk)
	l.mu.Unlock()
	if !ok {
		return false
	}
	now := l.clock.Now()
	err := l.update(ctx, "release", key, "SET #state = :released, #updated_at = :now", "#claim_id = :mine",
		map[string]string{"#state": attrState, "#updated_at": attrUpdatedAt, "#claim_id": attrClaimID},
		map[string]types.AttributeValue{":released": attr.S(string(StateReleased)), ":now": attr.Ms(now), ":mine": attr.S(claimID)})
	if err != nil && !isConditionFailed(err) {
		l.log.Warn("ledger: a claim write got no answer and could not be given back; if it landed, this user "+
			"is reported unknown after its lease although no call was made (--retry-unknown calls them)",
			"username", j.Username, "error", err)
	}
	return true
}

// settle writes a held claim's last state: at is the send (SENT) or the last moment a
// call may have landed (UNKNOWN).
func (l *Ledger) settle(ctx context.Context, op string, j job.Job, state State, at time.Time, r job.Result) error {
	key := userKey(l.cfg.ClientID, l.cfg.Case, j.Username)
	pk := pkOf(key)
	claimID := l.held(pk)
	if claimID == "" {
		return nil // not claimed by this process (or lost already)
	}
	// Renewals stop now: a renewal landing after this write would fail its condition
	// and must not be taken for a lost claim.
	l.letGo(pk, claimID)
	now := l.clock.Now()
	sets := []string{"#state = :state", "#updated_at = :now", "#attempts = :attempts"}
	names := map[string]string{"#state": attrState, "#updated_at": attrUpdatedAt, "#attempts": attrAttempts,
		"#claim_id": attrClaimID}
	values := map[string]types.AttributeValue{":state": attr.S(string(state)), ":now": attr.Ms(now),
		":attempts": attr.N(int64(r.Attempts)), ":mine": attr.S(claimID)}
	var removes []string
	setOrRemove := func(placeholder, attr string, v types.AttributeValue) {
		names["#"+placeholder] = attr
		if v == nil {
			removes = append(removes, "#"+placeholder)
			return
		}
		sets = append(sets, "#"+placeholder+" = :"+placeholder)
		values[":"+placeholder] = v
	}
	var outcome, code types.AttributeValue
	if r.Status != "" {
		outcome = attr.S(string(r.Status))
	}
	if r.ErrorCode != "" {
		code = attr.S(r.ErrorCode)
	}
	setOrRemove("outcome", attrOutcome, outcome)
	setOrRemove("error_code", attrErrorCode, code)
	switch state {
	case StateSent:
		setOrRemove("sent_at", attrSentAt, attr.Ms(at))
		setOrRemove("expires_at", AttrExpiresAt, expiresAt(at, l.cfg.keep()))
	case StateUnknown:
		setOrRemove("lease_until", attrLeaseUntil, attr.Ms(at))
		setOrRemove("expires_at", AttrExpiresAt, expiresAt(at, l.cfg.keep()))
	default: // RELEASED blocks nobody; its expiry only tidies the table
		setOrRemove("expires_at", AttrExpiresAt, expiresAt(now, l.cfg.keep()))
	}
	expr := "SET " + strings.Join(sets, ", ")
	if len(removes) > 0 {
		expr += " REMOVE " + strings.Join(removes, ", ")
	}
	err := l.update(ctx, op, key, expr, "#claim_id = :mine", names, values)
	if isConditionFailed(err) {
		l.log.Warn("ledger: the claim is no longer ours (its lease ran out); leaving the record to its new owner",
			"username", j.Username, "state", string(state))
		err = nil
	}
	return err
}

func (l *Ledger) put(ctx context.Context, op string, item map[string]types.AttributeValue, cond string,
	names map[string]string, values map[string]types.AttributeValue) error {
	return l.call.do(ctx, op, func(ctx context.Context) error {
		_, err := l.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.cfg.Table), Item: item,
			ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: values})
		return err
	})
}

func (l *Ledger) update(ctx context.Context, op string, key map[string]types.AttributeValue, expr, cond string,
	names map[string]string, values map[string]types.AttributeValue) error {
	return l.call.do(ctx, op, func(ctx context.Context) error {
		_, err := l.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(l.cfg.Table), Key: key,
			UpdateExpression: aws.String(expr), ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values})
		return err
	})
}

// get reads a record, strongly consistent.
func (l *Ledger) get(ctx context.Context, key map[string]types.AttributeValue) (Record, bool, error) {
	return getRecord(ctx, l.api, l.call, l.cfg.Table, key)
}

func getRecord(ctx context.Context, api getter, c caller, table string, key map[string]types.AttributeValue) (Record, bool, error) {
	var out *dynamodb.GetItemOutput
	err := c.do(ctx, "get", func(ctx context.Context) error {
		var err error
		out, err = api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		return err
	})
	if err != nil {
		return Record{}, false, err
	}
	if len(out.Item) == 0 {
		return Record{}, false, nil
	}
	return parseRecord(out.Item), true, nil
}

// ErrTable marks errors of the table itself (missing, wrong schema), found by Check.
var ErrTable = errors.New("ledger table")

func tableErr(format string, args ...any) error {
	return fmt.Errorf("%w %s", ErrTable, fmt.Sprintf(format, args...))
}
