package dynamoledger_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/clock/clocktest"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// creatingTable is a ledger table that stays CREATING for its first `creating` reads.
type creatingTable struct {
	dynamoledger.DynamoDBAdminAPI // nil: the TTL calls are not faked (UnknownOperation below)
	creating                      int
	describes                     atomic.Int64
	clock                         clockwork.Clock
	at                            []time.Time // when each describe came
}

func (f *creatingTable) CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return &dynamodb.CreateTableOutput{}, nil
}

func (f *creatingTable) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	n := f.describes.Add(1)
	f.at = append(f.at, f.clock.Now())
	status := types.TableStatusActive
	if int(n) <= f.creating {
		status = types.TableStatusCreating
	}
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{
		TableStatus: status,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	}}, nil
}

func (f *creatingTable) DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	return &dynamodb.DescribeTimeToLiveOutput{TimeToLiveDescription: &types.TimeToLiveDescription{
		TimeToLiveStatus: types.TimeToLiveStatusEnabled, AttributeName: aws.String(dynamoledger.AttrExpiresAt)}}, nil
}

// `ledger init` reads a new table's status every 500 ms on the clock (pacing.Retry with
// a named policy) until it is ACTIVE, and gives up after WaitActive naming the status.
func TestInitWaitsForActiveOnTheClock(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	clk := clockwork.NewFakeClockAt(t0)
	clocktest.Drive(t, clk, 500*time.Millisecond)
	api := &creatingTable{creating: 3, clock: clk}
	res, err := dynamoledger.Init(t.Context(), api, "fleet", dynamoledger.InitOptions{Clock: clk})
	require.NoError(t, err)
	require.True(t, res.Created)
	require.Equal(t, []time.Time{t0, t0.Add(500 * time.Millisecond), t0.Add(time.Second), t0.Add(1500 * time.Millisecond)}, api.at,
		"three reads CREATING, 500 ms apart on the clock, then ACTIVE")

	clk = clockwork.NewFakeClockAt(t0)
	clocktest.Drive(t, clk, 500*time.Millisecond)
	api = &creatingTable{creating: 1000, clock: clk}
	_, err = dynamoledger.Init(t.Context(), api, "fleet", dynamoledger.InitOptions{Clock: clk, Region: "us-east-1", WaitActive: 2 * time.Second})
	require.ErrorIs(t, err, dynamoledger.ErrTable)
	require.ErrorContains(t, err, "fleet in us-east-1 is still CREATING after 2s")
	require.Len(t, api.at, 5, "reads at 0, 0.5, 1, 1.5 and 2 s")
	require.Equal(t, t0.Add(2*time.Second), api.at[4])
}

// contendedTable loses every conditional put and finds no record on the read-back: the
// record changes between every put and its read.
type contendedTable struct {
	dynamoledger.DynamoDBAPI
	clock clockwork.Clock
	puts  []time.Time
}

func (f *contendedTable) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts = append(f.puts, f.clock.Now())
	return nil, &types.ConditionalCheckFailedException{Message: aws.String("lost")}
}

func (f *contendedTable) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}

// A claim whose record keeps changing tries a bounded number of rounds, pausing on the
// clock between them (pacing.Retry), then says busy: the job comes back later.
func TestClaimRoundsPauseOnTheClock(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clockwork.NewFakeClockAt(t0)
	clocktest.Drive(t, clk, time.Second)
	api := &contendedTable{clock: clk}
	l, err := dynamoledger.New(dynamoledger.Config{API: api, Table: "fleet", ClientID: "c", Owner: "me",
		Lease: 30 * time.Second, Clock: clk})
	require.NoError(t, err)
	v, err := l.Claim(t.Context(), job.Job{Username: "alice"})
	require.NoError(t, err)
	require.Equal(t, job.Busy, v.Kind)
	require.Len(t, api.puts, 4, "four rounds")
	for i := 1; i < len(api.puts); i++ {
		require.True(t, api.puts[i].After(api.puts[i-1]), "round %d waited on the clock after round %d", i+1, i)
	}
}
