package dynamoledger

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// The DynamoDB calls, by who makes them. The deploy IAM policies are derived from these
// method names (deploy/iam_test.go), as they are for SQS.

// DynamoDBReadAPI is what `cognito-resend ledger show` and `ledger list` call.
type DynamoDBReadAPI interface {
	// GetItem reads a user's record, strongly consistent: after a lost claim, and for show.
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	// Scan reads the user records in a state, for list (an operator's question).
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// DynamoDBAPI is every call a campaign makes on the ledger table.
type DynamoDBAPI interface {
	getter
	// PutItem claims a user (a conditional put).
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	// UpdateItem renews a lease and records an outcome (conditional on the claim).
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	// DescribeTable checks the table at start: it exists, with the key schema.
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// getter reads one record: a campaign (after a lost claim) and ledger show.
type getter interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// DynamoDBAdminAPI is what `cognito-resend ledger init` calls.
type DynamoDBAdminAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

var (
	_ DynamoDBAPI      = (*dynamodb.Client)(nil)
	_ DynamoDBAdminAPI = (*dynamodb.Client)(nil)
)
