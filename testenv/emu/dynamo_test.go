package emu_test

// These tests pin what dynalite 4.0.0 does with aws-sdk-go-v2 service/dynamodb
// v1.74.0, for the DynamoDB ledger (issue 10): what works, what fails and how.
// Where dynalite differs from real DynamoDB the test says so; product code must
// not depend on the difference (expiry is decided in condition expressions, a
// lost claim is read back with a consistent GetItem).

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
)

func attrS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func attrN(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// claimInput is a Powertools-style claim: a conditional put that wins when no
// record exists or the existing one has expired (decided in the condition, never
// by TTL deletion).
func claimInput(table, client, user, owner string, now, leaseUntil int64) *dynamodb.PutItemInput {
	return &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item: map[string]types.AttributeValue{
			"pk": attrS(client), "sk": attrS(user), "owner": attrS(owner), "state": attrS("claimed"), "expiry": attrN(leaseUntil),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk) OR #expiry < :now"),
		ExpressionAttributeNames: map[string]string{"#pk": "pk", "#expiry": "expiry"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": attrN(now),
		},
	}
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	require.ErrorAs(t, err, &ae, "want an API error, got %v", err)
	return ae.ErrorCode()
}

func TestDynamo(t *testing.T) {
	t.Parallel()
	srv := emu.Dynamo(t)
	ctx := t.Context()
	require.True(t, strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:"), srv.Endpoint)
	c := emu.NewDynamoClient(srv.Endpoint)

	// A table is CREATING for dynalite's default 500ms, like (a short) real
	// DynamoDB: code that creates a table must wait for ACTIVE.
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("waits"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema:   []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode: types.BillingModePayPerRequest,
	})
	require.NoError(t, err)
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("waits")})
	require.NoError(t, err)
	require.Equal(t, types.TableStatusCreating, d.Table.TableStatus)
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("waits"), Item: map[string]types.AttributeValue{"pk": attrS("x")}})
	var rnf *types.ResourceNotFoundException
	require.ErrorAs(t, err, &rnf, "a write to a CREATING table")
	require.NoError(t, emu.WaitTableActive(ctx, c, "waits", 10*time.Second))
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("waits"), Item: map[string]types.AttributeValue{"pk": attrS("x")}})
	require.NoError(t, err)

	// On demand, string hash + range key (the ledger's shape: client id, username).
	require.NoError(t, emu.CreateTable(ctx, c, "ledger", emu.TableOptions{HashKey: "pk", RangeKey: "sk"}))
	d, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("ledger")})
	require.NoError(t, err)
	require.Equal(t, types.TableStatusActive, d.Table.TableStatus)
	require.Len(t, d.Table.KeySchema, 2)
	require.Equal(t, "pk", aws.ToString(d.Table.KeySchema[0].AttributeName))
	require.Equal(t, types.KeyTypeHash, d.Table.KeySchema[0].KeyType)
	require.Equal(t, "sk", aws.ToString(d.Table.KeySchema[1].AttributeName))
	require.Equal(t, types.KeyTypeRange, d.Table.KeySchema[1].KeyType)
	require.NotNil(t, d.Table.BillingModeSummary)
	require.Equal(t, types.BillingModePayPerRequest, d.Table.BillingModeSummary.BillingMode)

	// Hash key only.
	require.NoError(t, emu.CreateTable(ctx, c, "hashonly", emu.TableOptions{HashKey: "id"}))

	lt, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
	require.NoError(t, err)
	require.Equal(t, []string{"hashonly", "ledger", "waits"}, lt.TableNames)

	// Creating it again: ResourceInUseException (what `ledger init` sees when the
	// table exists).
	err = emu.CreateTable(ctx, c, "ledger", emu.TableOptions{HashKey: "pk", RangeKey: "sk"})
	var riu *types.ResourceInUseException
	require.ErrorAs(t, err, &riu)

	const now = int64(1_700_000_000)
	key := map[string]types.AttributeValue{"pk": attrS("client-1"), "sk": attrS("alice")}

	t.Run("conditional put: first claim wins, second fails typed", func(t *testing.T) {
		_, err := c.PutItem(ctx, claimInput("ledger", "client-1", "alice", "replica-a", now, now+60))
		require.NoError(t, err)

		_, err = c.PutItem(ctx, claimInput("ledger", "client-1", "alice", "replica-b", now+1, now+61))
		var ccf *types.ConditionalCheckFailedException
		require.ErrorAs(t, err, &ccf)
		require.True(t, errors.As(err, &ccf))
		require.Equal(t, "ConditionalCheckFailedException", ccf.ErrorCode())
		require.Equal(t, "The conditional request failed", ccf.ErrorMessage())
		require.Nil(t, ccf.Item, "no ReturnValuesOnConditionCheckFailure asked")

		// After a lost claim, a consistent GetItem tells why: the winner's record.
		got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("ledger"), Key: key, ConsistentRead: aws.Bool(true)})
		require.NoError(t, err)
		require.Equal(t, attrS("replica-a"), got.Item["owner"])
		require.Equal(t, attrN(now+60), got.Item["expiry"])

		// Expiry decided in the condition: once the lease is past, the claim wins.
		_, err = c.PutItem(ctx, claimInput("ledger", "client-1", "alice", "replica-b", now+61, now+121))
		require.NoError(t, err)
		got, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("ledger"), Key: key, ConsistentRead: aws.Bool(true)})
		require.NoError(t, err)
		require.Equal(t, attrS("replica-b"), got.Item["owner"])
	})

	t.Run("ReturnValuesOnConditionCheckFailure is ignored", func(t *testing.T) {
		in := claimInput("ledger", "client-1", "alice", "replica-c", now+62, now+122)
		in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		_, err := c.PutItem(ctx, in)
		var ccf *types.ConditionalCheckFailedException
		require.ErrorAs(t, err, &ccf)
		// Real DynamoDB returns the existing item here; dynalite returns none.
		require.Nil(t, ccf.Item)

		up := &dynamodb.UpdateItemInput{
			TableName:                           aws.String("ledger"),
			Key:                                 key,
			UpdateExpression:                    aws.String("SET #state = :done"),
			ConditionExpression:                 aws.String("#owner = :me"),
			ExpressionAttributeNames:            map[string]string{"#state": "state", "#owner": "owner"},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":done": attrS("done"), ":me": attrS("replica-a")},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}
		_, err = c.UpdateItem(ctx, up)
		require.ErrorAs(t, err, &ccf)
		require.Nil(t, ccf.Item)
	})

	t.Run("conditional update: owner may finish, others may not", func(t *testing.T) {
		finish := func(owner string) error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                aws.String("ledger"),
				Key:                      key,
				UpdateExpression:         aws.String("SET #state = :sent, #expiry = :until"),
				ConditionExpression:      aws.String("#owner = :me AND #state = :claimed"),
				ExpressionAttributeNames: map[string]string{"#state": "state", "#owner": "owner", "#expiry": "expiry"},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":sent": attrS("sent"), ":claimed": attrS("claimed"), ":me": attrS(owner), ":until": attrN(now + 86400),
				},
			})
			return err
		}
		var ccf *types.ConditionalCheckFailedException
		require.ErrorAs(t, finish("replica-a"), &ccf, "the lost owner")
		require.NoError(t, finish("replica-b"))
		require.ErrorAs(t, finish("replica-b"), &ccf, "state is no longer claimed")

		got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("ledger"), Key: key, ConsistentRead: aws.Bool(true)})
		require.NoError(t, err)
		require.Equal(t, attrS("sent"), got.Item["state"])
		require.Equal(t, attrN(now+86400), got.Item["expiry"])

		// UpdateItem on a missing item with attribute_exists: typed failure too
		// (an update would otherwise create the item).
		_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String("ledger"),
			Key:                       map[string]types.AttributeValue{"pk": attrS("client-1"), "sk": attrS("nobody")},
			UpdateExpression:          aws.String("SET #state = :sent"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeNames:  map[string]string{"#state": "state"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":sent": attrS("sent")},
		})
		require.ErrorAs(t, err, &ccf)
	})

	t.Run("UpdateTimeToLive is an unknown operation", func(t *testing.T) {
		_, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName: aws.String("ledger"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{
				AttributeName: aws.String("expiry"), Enabled: aws.Bool(true),
			},
		})
		require.Error(t, err)
		require.Equal(t, "UnknownOperationException", apiCode(t, err))
		// No modelled type for it: the SDK gives a generic API error.
		var generic *smithy.GenericAPIError
		require.ErrorAs(t, err, &generic)
		var re interface{ HTTPStatusCode() int }
		require.ErrorAs(t, err, &re)
		require.Equal(t, http.StatusBadRequest, re.HTTPStatusCode())
	})

	t.Run("DescribeTimeToLive always says DISABLED", func(t *testing.T) {
		out, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("ledger")})
		require.NoError(t, err)
		require.NotNil(t, out.TimeToLiveDescription)
		require.Equal(t, types.TimeToLiveStatusDisabled, out.TimeToLiveDescription.TimeToLiveStatus)
		require.Nil(t, out.TimeToLiveDescription.AttributeName)

		_, err = c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("missing")})
		var rnf *types.ResourceNotFoundException
		require.ErrorAs(t, err, &rnf)
	})

	t.Run("TransactWriteItems is an unknown operation", func(t *testing.T) {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: []types.TransactWriteItem{{Put: &types.Put{
				TableName: aws.String("ledger"),
				Item:      map[string]types.AttributeValue{"pk": attrS("client-1"), "sk": attrS("bob")},
			}}},
		})
		require.Error(t, err)
		require.Equal(t, "UnknownOperationException", apiCode(t, err))
		got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("ledger"),
			Key: map[string]types.AttributeValue{"pk": attrS("client-1"), "sk": attrS("bob")}, ConsistentRead: aws.Bool(true)})
		require.NoError(t, err)
		require.Nil(t, got.Item, "nothing written")
	})
}

func TestDynamoFreshPerStart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := emu.Dynamo(t, emu.WithTableDelay(0))
	b := emu.Dynamo(t, emu.WithTableDelay(0))
	require.NotEqual(t, a.Endpoint, b.Endpoint)

	ca := emu.NewDynamoClient(a.Endpoint)
	_, err := ca.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("fresh"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	require.NoError(t, err)
	d, err := ca.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("fresh")})
	require.NoError(t, err)
	require.Equal(t, types.TableStatusActive, d.Table.TableStatus, "WithTableDelay(0): ACTIVE at once")

	lt, err := emu.NewDynamoClient(b.Endpoint).ListTables(ctx, &dynamodb.ListTablesInput{})
	require.NoError(t, err)
	require.Empty(t, lt.TableNames, "a second dynalite shares nothing with the first")

	// The env helper names the endpoint the SDK reads.
	require.Contains(t, emu.DynamoEnv(a.Endpoint), "AWS_ENDPOINT_URL_DYNAMODB="+a.Endpoint)
}

// A client that goes away in the middle of a request (killed with SIGKILL, its
// connection cut) must not take the emulator down: the processes that share it carry on
// (dynalite itself rethrows the request's error; the launcher catches it).
func TestDynamoSurvivesAbortedRequests(t *testing.T) {
	t.Parallel()
	srv := emu.Dynamo(t, emu.WithTableDelay(0))
	c := emu.NewDynamoClient(srv.Endpoint)
	for range 3 {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.Endpoint, "http://"))
		require.NoError(t, err)
		_, err = conn.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n" +
			"X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 100\r\n\r\n{\"Lim"))
		require.NoError(t, err)
		time.Sleep(50 * time.Millisecond) // let the server start reading the body
		require.NoError(t, conn.(*net.TCPConn).SetLinger(0))
		require.NoError(t, conn.Close())
	}
	time.Sleep(200 * time.Millisecond) // what would crash the process happens after the close
	_, err := c.ListTables(t.Context(), &dynamodb.ListTablesInput{})
	require.NoError(t, err, "still serving after clients went away mid-request")
	logs, _ := srv.Logs()
	require.Contains(t, logs, "a client went away mid-request")
}
