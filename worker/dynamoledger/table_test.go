package dynamoledger_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
)

func TestInitIsIdempotentAndChecksTheSchema(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("needs dynalite; run without -short")
	}
	srv := emu.Dynamo(t) // dynalite's default: a new table is CREATING for 500 ms
	c := emu.NewDynamoClient(srv.Endpoint)
	ctx := t.Context()
	l, err := dynamoledger.New(dynamoledger.Config{API: c, Table: "fleet", Region: "us-east-1", ClientID: "x", Clock: clock.Real()})
	require.NoError(t, err)

	// Missing: named with its region, and no advice (the caller knows the other regions).
	err = l.Check(ctx)
	require.ErrorIs(t, err, dynamoledger.ErrTable)
	var miss *dynamoledger.MissingError
	require.ErrorAs(t, err, &miss)
	require.Equal(t, dynamoledger.MissingError{Table: "fleet", Region: "us-east-1"}, *miss)
	require.EqualError(t, err, "ledger table fleet does not exist in us-east-1")
	found, err := dynamoledger.Exists(ctx, c, "fleet", "us-east-1", clock.Real())
	require.NoError(t, err)
	require.False(t, found)

	res, err := dynamoledger.Init(ctx, c, "fleet", dynamoledger.InitOptions{Clock: clock.Real()})
	require.NoError(t, err)
	require.True(t, res.Created)
	require.Contains(t, res.TTL, "not supported by this endpoint", "dynalite has no UpdateTimeToLive")
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("fleet")})
	require.NoError(t, err)
	require.Equal(t, types.TableStatusActive, d.Table.TableStatus, "Init waited for ACTIVE")
	require.Equal(t, types.BillingModePayPerRequest, d.Table.BillingModeSummary.BillingMode)
	require.NoError(t, l.Check(ctx))
	found, err = dynamoledger.Exists(ctx, c, "fleet", "us-east-1", clock.Real())
	require.NoError(t, err)
	require.True(t, found)

	res, err = dynamoledger.Init(ctx, c, "fleet", dynamoledger.InitOptions{Clock: clock.Real()})
	require.NoError(t, err, "again: the table is there with the right schema")
	require.False(t, res.Created)

	require.NoError(t, emu.CreateTable(ctx, c, "other", emu.TableOptions{HashKey: "id"}))
	_, err = dynamoledger.Init(ctx, c, "other", dynamoledger.InitOptions{Region: "us-east-1", Clock: clock.Real()})
	var se *dynamoledger.SchemaError
	require.ErrorAs(t, err, &se)
	require.ErrorContains(t, err, "table other in us-east-1 exists but is not a cognito-resend ledger")
	require.Equal(t, []string{"partition key is id, want pk (S)", "no sort key, want sk (S)"}, se.Diffs)
	l2, err := dynamoledger.New(dynamoledger.Config{API: c, Table: "other", ClientID: "x", Clock: clock.Real()})
	require.NoError(t, err)
	require.ErrorAs(t, l2.Check(ctx), &se)
}

func TestValidTableName(t *testing.T) {
	t.Parallel()
	require.Empty(t, dynamoledger.ValidTableName("cognito-resend-ledger"))
	require.Empty(t, dynamoledger.ValidTableName("a.b_c"))
	require.NotEmpty(t, dynamoledger.ValidTableName("ab"))
	require.NotEmpty(t, dynamoledger.ValidTableName("has space"))
	require.NotEmpty(t, dynamoledger.ValidTableName("arn:aws:dynamodb:us-east-1:123:table/x"))
}
