package fleet_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/fleet"
)

// The heartbeats on the wire, against dynalite (testenv/emu), in the ledger table
// `ledger init` creates: the records, the Query, the delete; expiry judged by the
// readers' (fake) clock.
func TestFleetOnTheLedgerTable(t *testing.T) {
	if testing.Short() {
		t.Skip("needs dynalite; run without -short")
	}
	t.Parallel()
	srv := emu.Dynamo(t, emu.WithTableDelay(0))
	client := emu.NewDynamoClient(srv.Endpoint)
	const table = "fleet-ledger"
	clock := clockwork.NewFakeClockAt(t0)
	_, err := dynamoledger.Init(t.Context(), client, table, dynamoledger.InitOptions{Clock: clockwork.NewRealClock()})
	require.NoError(t, err)
	members := make([]*fleet.Member, 3)
	for i := range members {
		m, err := fleet.New(fleet.Config{API: client, Table: table, Name: "workers", Replica: "host/" + strconv.Itoa(i),
			Campaign: "queue:q@x", Rate: 30, Clock: clock})
		require.NoError(t, err)
		require.NoError(t, m.First(t.Context(), &ceiling{}))
		members[i] = m
	}
	require.Equal(t, 3, members[2].Alive(), "the last to join reads the two before it")
	for _, m := range members {
		require.NoError(t, m.Round(t.Context()))
		require.Equal(t, 3, m.Alive())
	}

	// The record: on the fleet's partition, alive_until 3 intervals on, tidied by TTL an
	// hour after that; a user's record is not on it.
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "fleet#workers"},
			"sk": &types.AttributeValueMemberS{Value: "replica#host/0"}}})
	require.NoError(t, err)
	num := func(name string) int64 {
		v, err := strconv.ParseInt(out.Item[name].(*types.AttributeValueMemberN).Value, 10, 64)
		require.NoError(t, err, name)
		return v
	}
	require.Equal(t, t0.Add(3*time.Second).UnixMilli(), num("alive_until"))
	require.Equal(t, t0.Add(3*time.Second+time.Hour).Unix(), num(dynamoledger.AttrExpiresAt))
	require.Equal(t, "30", out.Item["fleet_rate"].(*types.AttributeValueMemberN).Value)
	require.Equal(t, "queue:q@x", out.Item["campaign"].(*types.AttributeValueMemberS).Value)

	// 2 stops heartbeating (killed): counted until its record's alive_until, not after.
	clock.Advance(2900 * time.Millisecond)
	for _, m := range members[:2] {
		require.NoError(t, m.Round(t.Context()))
	}
	require.Equal(t, 3, members[0].Alive())
	clock.Advance(200 * time.Millisecond)
	require.NoError(t, members[0].Round(t.Context()))
	require.Equal(t, 2, members[0].Alive(), "the killed replica's record expired")

	// 1 leaves cleanly: its record is gone at once.
	require.NoError(t, members[1].Leave(t.Context()))
	require.NoError(t, members[0].Round(t.Context()))
	require.Equal(t, 1, members[0].Alive())
	q, err := client.Query(t.Context(), &dynamodb.QueryInput{TableName: aws.String(table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "fleet#workers"}}})
	require.NoError(t, err)
	require.Len(t, q.Items, 2, "0's and the killed 2's (expired, left for TTL)")
}
