package fleet

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DynamoDBFleetAPI is every call a replica makes on the ledger table for its fleet's
// heartbeats. The deploy IAM policies are derived from these method names
// (deploy/iam_test.go), as they are for the ledger's own calls.
type DynamoDBFleetAPI interface {
	// PutItem writes this replica's heartbeat record.
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	// Query reads the fleet's records, strongly consistent: one partition, one call.
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	// DeleteItem removes this replica's record on a clean stop.
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ DynamoDBFleetAPI = (*dynamodb.Client)(nil)
