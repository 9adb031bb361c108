package dynamoledger_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/clock/clocktest"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// These tests run against dynalite (testenv/emu), the DynamoDB emulator CI uses: the
// conditions are DynamoDB's to evaluate, so they are tested where they are evaluated.

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	client *dynamodb.Client
	table  string
	clock  *clockwork.FakeClock
}

var tables atomic.Int64

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("needs dynalite; run without -short")
	}
	srv := emu.Dynamo(t, emu.WithTableDelay(0))
	f := &fixture{client: emu.NewDynamoClient(srv.Endpoint), table: fmt.Sprintf("ledger-%d", tables.Add(1)),
		clock: clockwork.NewFakeClockAt(t0)}
	_, err := dynamoledger.Init(t.Context(), f.client, f.table, dynamoledger.InitOptions{Clock: clock.Real()})
	require.NoError(t, err)
	return f
}

func (f *fixture) ledger(t *testing.T, owner string, mod func(*dynamoledger.Config)) *dynamoledger.Ledger {
	t.Helper()
	cfg := dynamoledger.Config{API: f.client, Table: f.table, ClientID: "client-1", Owner: owner,
		Campaign: "campaign-" + owner, Lease: 30 * time.Second, Cooldown: 24 * time.Hour, Clock: f.clock}
	if mod != nil {
		mod(&cfg)
	}
	l, err := dynamoledger.New(cfg)
	require.NoError(t, err)
	return l
}

func (f *fixture) show(t *testing.T, user string) dynamoledger.Shown {
	t.Helper()
	sh, err := dynamoledger.Show(t.Context(), f.client, f.table, "", "client-1", admit.CaseInsensitive, []string{user}, f.clock)
	require.NoError(t, err)
	require.Len(t, sh, 1)
	return sh[0]
}

func claim(t *testing.T, l *dynamoledger.Ledger, user string) job.ClaimVerdict {
	t.Helper()
	v, err := l.Claim(t.Context(), job.Job{Username: user})
	require.NoError(t, err)
	return v
}

func sentResult(user string, at time.Time) job.Result {
	return job.Result{Username: user, Status: job.StatusSent, Attempts: 1, StartedAt: at, FinishedAt: at}
}

func TestClaimVerdicts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.ledger(t, "a", nil), f.ledger(t, "b", nil)

	// One wins; the other is told the user is busy until the winner's lease ends.
	require.Equal(t, job.Won, claim(t, a, "Alice").Kind)
	v := claim(t, b, "alice")
	require.Equal(t, job.ClaimVerdict{Kind: job.Busy, At: t0.Add(30 * time.Second), Owner: "a", Campaign: "campaign-a"}, v,
		"usernames compare case-insensitively")
	require.Equal(t, dynamoledger.StateInProgress, f.show(t, "ALICE").Record.State)

	// Sent: the other is told when, by whom, for the cooldown.
	f.clock.Advance(2 * time.Second)
	require.NoError(t, a.Finish(t.Context(), job.Job{Username: "Alice"}, sentResult("Alice", f.clock.Now())))
	v = claim(t, b, "alice")
	require.Equal(t, job.ClaimVerdict{Kind: job.RecentlySent, At: t0.Add(2 * time.Second), Owner: "a", Campaign: "campaign-a"}, v)
	rec := f.show(t, "alice").Record
	require.Equal(t, dynamoledger.StateSent, rec.State)
	require.Equal(t, t0.Add(2*time.Second+24*time.Hour), rec.ExpiresAt, "expires the cooldown after the send")
	require.Equal(t, job.StatusSent, rec.Outcome)

	// A later campaign, after the cooldown: claims it.
	f.clock.Advance(24*time.Hour + time.Second)
	require.Equal(t, job.ClaimVerdict{Kind: job.Busy, At: f.clock.Now().Add(30 * time.Second), Owner: "b", Campaign: "campaign-b"},
		func() job.ClaimVerdict {
			require.Equal(t, job.Won, claim(t, b, "alice").Kind)
			return claim(t, a, "alice")
		}())
}

// An operator's shorter --cooldown resends sooner than the writer's; never later than
// the record's expiry. --cooldown 0 keeps sends for ever.
func TestCooldownOfTheReader(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	writer := f.ledger(t, "w", nil) // 24 h
	require.Equal(t, job.Won, claim(t, writer, "bob").Kind)
	require.NoError(t, writer.Finish(t.Context(), job.Job{Username: "bob"}, sentResult("bob", t0)))
	f.clock.Advance(2 * time.Hour)
	require.Equal(t, job.RecentlySent, claim(t, f.ledger(t, "r1", func(c *dynamoledger.Config) { c.Cooldown = 3 * time.Hour }), "bob").Kind)
	require.Equal(t, job.Won, claim(t, f.ledger(t, "r2", func(c *dynamoledger.Config) { c.Cooldown = time.Hour }), "bob").Kind)

	forever := f.ledger(t, "f", func(c *dynamoledger.Config) { c.Cooldown = 0 })
	require.Equal(t, job.Won, claim(t, forever, "carol").Kind)
	require.NoError(t, forever.Finish(t.Context(), job.Job{Username: "carol"}, sentResult("carol", f.clock.Now())))
	require.True(t, f.show(t, "carol").Record.ExpiresAt.IsZero(), "no expiry with --cooldown 0")
	f.clock.Advance(400 * 24 * time.Hour)
	require.Equal(t, job.RecentlySent, claim(t, f.ledger(t, "g", func(c *dynamoledger.Config) { c.Cooldown = 0 }), "carol").Kind)
	require.Equal(t, job.Won, claim(t, f.ledger(t, "h", func(c *dynamoledger.Config) { c.Cooldown = 24 * time.Hour }), "carol").Kind,
		"a reader with a cooldown resends after it")
}

// An owner that died during a call: its lease runs out, the next owner reports the
// user unknown without a call and marks the record so; --retry-unknown takes it over.
func TestExpiredClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dead := f.ledger(t, "dead", nil)
	require.Equal(t, job.Won, claim(t, dead, "dan").Kind)
	f.clock.Advance(31 * time.Second)

	next := f.ledger(t, "next", nil)
	v := claim(t, next, "dan")
	require.Equal(t, job.ClaimVerdict{Kind: job.Expired, At: t0.Add(30 * time.Second), Owner: "dead", Campaign: "campaign-dead"}, v)
	require.Equal(t, dynamoledger.StateUnknown, f.show(t, "dan").Record.State, "marked UNKNOWN for ledger show")
	require.Equal(t, job.Expired, claim(t, next, "dan").Kind, "and stays unknown")

	retry := f.ledger(t, "retry", func(c *dynamoledger.Config) { c.RetryUnknown = true })
	require.Equal(t, job.Won, claim(t, retry, "dan").Kind)
	require.Equal(t, "retry", f.show(t, "dan").Record.Owner)

	// The dead owner's late writes can't touch the new claim.
	require.ErrorIs(t, dead.Renew(t.Context(), job.Job{Username: "dan"}), job.ErrClaimLost)
	require.NoError(t, dead.Finish(t.Context(), job.Job{Username: "dan"}, sentResult("dan", f.clock.Now())))
	require.Equal(t, dynamoledger.StateInProgress, f.show(t, "dan").Record.State)
	require.Equal(t, "retry", f.show(t, "dan").Record.Owner)
}

func TestRenewKeepsTheClaimLive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.ledger(t, "a", nil), f.ledger(t, "b", nil)
	require.Equal(t, job.Won, claim(t, a, "erin").Kind)
	for range 5 { // held for 50 s, renewed every 10 s
		f.clock.Advance(10 * time.Second)
		require.NoError(t, a.Renew(t.Context(), job.Job{Username: "erin"}))
	}
	v := claim(t, b, "erin")
	require.Equal(t, job.Busy, v.Kind)
	require.Equal(t, t0.Add(80*time.Second), v.At)
	rec := f.show(t, "erin").Record
	require.Equal(t, t0.Add(80*time.Second+24*time.Hour), rec.ExpiresAt, "the expiry follows the lease")
}

func TestFinishAndRelease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.ledger(t, "a", nil), f.ledger(t, "b", nil)
	for _, tt := range []struct {
		user   string
		settle func(u string)
		state  dynamoledger.State
		next   job.VerdictKind
	}{
		{"released-before-call", func(u string) { a.Release(t.Context(), job.Job{Username: u}, false) },
			dynamoledger.StateReleased, job.Won},
		{"released-after-timeout", func(u string) { a.Release(t.Context(), job.Job{Username: u}, true) },
			dynamoledger.StateUnknown, job.Expired},
		{"failed-ambiguous", func(u string) {
			require.NoError(t, a.Finish(t.Context(), job.Job{Username: u}, job.Result{Username: u, Status: job.StatusFailed,
				ErrorCode: "Timeout", Attempts: 8, Class: job.ClassRetryable, Ambiguous: true}))
		}, dynamoledger.StateUnknown, job.Expired},
		{"user-not-found", func(u string) {
			require.NoError(t, a.Finish(t.Context(), job.Job{Username: u}, job.Result{Username: u, Status: job.StatusUserNotFound,
				ErrorCode: "UserNotFoundException", Attempts: 1}))
		}, dynamoledger.StateReleased, job.Won},
	} {
		require.Equal(t, job.Won, claim(t, a, tt.user).Kind, tt.user)
		tt.settle(tt.user)
		sh := f.show(t, tt.user)
		require.Equal(t, tt.state, sh.Record.State, tt.user)
		require.Equal(t, tt.next, claim(t, b, tt.user).Kind, tt.user)
	}
	nf := f.show(t, "user-not-found").Record
	require.Equal(t, "b", nf.Owner, "claimed again by b")
	line := f.show(t, "failed-ambiguous").Line(f.clock.Now())
	require.Contains(t, line, "failed-ambiguous  UNKNOWN  may have been sent")
	require.Contains(t, line, "outcome=failed  error_code=Timeout  attempts=8")
	require.Contains(t, f.show(t, "nobody").Line(f.clock.Now()), "nobody  no record")
}

// A put whose answer was lost (and retried) is recognised by its claim id: our claim,
// not someone else's.
func TestClaimRecognisesItsOwnLandedPut(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	api := &lossyPut{DynamoDBAPI: f.client}
	l := f.ledger(t, "a", func(c *dynamoledger.Config) { c.API = api })
	clocktest.Drive(t, f.clock, time.Second) // the retry's backoff wait (at most 150 ms) on the ledger's clock
	require.Equal(t, job.Won, claim(t, l, "fay").Kind)
	require.Equal(t, int64(2), api.puts.Load(), "the lost answer was retried")
	require.NoError(t, l.Finish(t.Context(), job.Job{Username: "fay"}, sentResult("fay", f.clock.Now())))
	require.Equal(t, dynamoledger.StateSent, f.show(t, "fay").Record.State)
}

// lossyPut lands the first PutItem and answers it with a 500, as a connection reset
// after the request was sent would.
type lossyPut struct {
	dynamoledger.DynamoDBAPI
	puts atomic.Int64
}

func (p *lossyPut) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := p.DynamoDBAPI.PutItem(ctx, in, opts...)
	if p.puts.Add(1) == 1 && err == nil {
		return nil, &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusInternalServerError}},
			Err:      &types.InternalServerError{Message: aws.String("answer lost")}}}
	}
	return out, err
}

// The two forms of the claim rule agree: for every kind of record, DynamoDB's condition
// lets a claim through exactly when a record read back is judged claimable (the
// read-back path's "claim again").
func TestRuleFormsAgree(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := t0.Add(48 * time.Hour)
	f.clock.Advance(48 * time.Hour)
	item := func(state string, attrs map[string]int64) map[string]types.AttributeValue {
		it := map[string]types.AttributeValue{"state": &types.AttributeValueMemberS{Value: state},
			"claim_id": &types.AttributeValueMemberS{Value: "old"}, "owner": &types.AttributeValueMemberS{Value: "x"}}
		for k, v := range attrs {
			it[k] = &types.AttributeValueMemberN{Value: fmt.Sprint(v)}
		}
		return it
	}
	msAgo := func(d time.Duration) int64 { return now.Add(-d).UnixMilli() }
	sAgo := func(d time.Duration) int64 { return now.Add(-d).Unix() }
	records := map[string]map[string]types.AttributeValue{
		"released":           item("RELEASED", nil),
		"sent-recent":        item("SENT", map[string]int64{"sent_at": msAgo(time.Minute), "expires_at": sAgo(-time.Hour)}),
		"sent-2h":            item("SENT", map[string]int64{"sent_at": msAgo(2 * time.Hour), "expires_at": sAgo(-22 * time.Hour)}),
		"sent-expired":       item("SENT", map[string]int64{"sent_at": msAgo(30 * time.Hour), "expires_at": sAgo(6 * time.Hour)}),
		"sent-forever":       item("SENT", map[string]int64{"sent_at": msAgo(30 * time.Hour)}),
		"inprogress-live":    item("IN_PROGRESS", map[string]int64{"lease_until": msAgo(-time.Minute), "expires_at": sAgo(-24 * time.Hour)}),
		"inprogress-expired": item("IN_PROGRESS", map[string]int64{"lease_until": msAgo(time.Minute), "expires_at": sAgo(-24 * time.Hour)}),
		"inprogress-old":     item("IN_PROGRESS", map[string]int64{"lease_until": msAgo(3 * time.Hour)}),
		"unknown-recent":     item("UNKNOWN", map[string]int64{"lease_until": msAgo(time.Minute)}),
		"unknown-old":        item("UNKNOWN", map[string]int64{"lease_until": msAgo(3 * time.Hour), "expires_at": sAgo(-time.Hour)}),
		"strange-state":      item("FROM_THE_FUTURE", map[string]int64{"lease_until": msAgo(3 * time.Hour)}),
	}
	for _, cooldown := range []time.Duration{0, time.Hour} {
		wantWon := map[string]bool{"released": true, "sent-expired": true,
			"sent-2h": cooldown > 0, "sent-forever": cooldown > 0, "inprogress-old": cooldown > 0, "unknown-old": cooldown > 0}
		for name, it := range records {
			user := fmt.Sprintf("%s-%s", name, cooldown)
			key := strings.ToLower("user#client-1#" + user)
			full := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}, "sk": &types.AttributeValueMemberS{Value: "claim"}}
			for k, v := range it {
				full[k] = v
			}
			_, err := f.client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: full})
			require.NoError(t, err)
			l := f.ledger(t, "judge", func(c *dynamoledger.Config) { c.Cooldown = cooldown })
			v := claim(t, l, user)
			require.Equal(t, wantWon[name], v.Kind == job.Won, "%s (cooldown %s): verdict %s", name, cooldown, v.Kind)
		}
	}
}

// A table that can't be reached: the claim fails within about a second (the retry
// schedule), with the table's error.
func TestUnreachableTable(t *testing.T) {
	t.Parallel()
	c := emu.NewDynamoClient("http://127.0.0.1:1")
	l, err := dynamoledger.New(dynamoledger.Config{API: c, Table: "ledger", ClientID: "c", Clock: clock.Real()})
	require.NoError(t, err)
	start := time.Now()
	_, err = l.Claim(t.Context(), job.Job{Username: "gus"})
	require.ErrorContains(t, err, "table ledger: claim: ")
	require.ErrorContains(t, err, "connection refused")
	require.Less(t, time.Since(start), 10*time.Second)
	require.False(t, errors.Is(err, job.ErrClaimLost))
}

// A case-sensitive pool has two users Alice and alice: two records; a case-insensitive
// one, one.
func TestKeysFollowThePoolsCaseRule(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	exact := f.ledger(t, "a", func(c *dynamoledger.Config) { c.Case = admit.CaseSensitive })
	require.Equal(t, job.Won, claim(t, exact, "Alice").Kind)
	require.Equal(t, job.Won, claim(t, exact, "alice").Kind, "another user")
	folded := f.ledger(t, "b", nil)
	require.Equal(t, job.Won, claim(t, folded, "Bob").Kind)
	require.Equal(t, job.Busy, claim(t, folded, "BOB").Kind, "the same user")
	sh, err := dynamoledger.Show(t.Context(), f.client, f.table, "", "client-1", admit.CaseSensitive, []string{"Alice", "ALICE"}, f.clock)
	require.NoError(t, err)
	require.True(t, sh[0].Found)
	require.False(t, sh[1].Found)
}

// `ledger export` of a claim whose lease ran out names the message the claim was to send:
// an invitation (--invitations) is not "a code". The claim records it; a record written
// before it was kept reads as a code, like an unset message everywhere.
func TestExportNamesTheMessageOfALapsedClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dead := f.ledger(t, "dead", nil)
	v, err := dead.Claim(t.Context(), job.Job{Username: "ivy", Message: job.MessageInvitation})
	require.NoError(t, err)
	require.Equal(t, job.Won, v.Kind)
	require.Equal(t, job.Won, claim(t, dead, "carl").Kind) // no message decided: a confirmation code
	f.clock.Advance(31 * time.Second)

	out, err := dynamoledger.Export(t.Context(), f.client, f.table, "", dynamoledger.ExportOptions{Campaign: "campaign-dead",
		Now: f.clock.Now(), Clock: f.clock})
	require.NoError(t, err)
	rows := map[string]job.Result{}
	for _, r := range out.Rows {
		rows[r.Username] = r
	}
	require.Len(t, rows, 2)
	require.Equal(t, job.StatusUnknown, rows["ivy"].Status)
	require.Equal(t, job.MessageInvitation, rows["ivy"].Message)
	require.Equal(t, "claimed, and its holder's lease ran out before an outcome was recorded: the user may have received an invitation",
		rows["ivy"].ErrorMessage)
	require.Equal(t, job.MessageConfirmation, rows["carl"].Message)
	require.Equal(t, "claimed, and its holder's lease ran out before an outcome was recorded: the user may have received a code",
		rows["carl"].ErrorMessage)
	require.Equal(t, "invitation", f.show(t, "ivy").Record.JSON(f.clock.Now()).Message, "ledger list --json says it too")
}
