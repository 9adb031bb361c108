package emu

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// EnvDynamoEndpoint is the variable the AWS SDKs read for the DynamoDB endpoint.
const EnvDynamoEndpoint = "AWS_ENDPOINT_URL_DYNAMODB"

// StartDynamo starts dynalite 4.0.0 (DynamoDB), in memory: every call gets an
// empty, independent database. ctx only bounds the start-up; the server runs
// until Close.
//
// dynalite speaks DynamoDB's JSON 1.0 protocol but not all of it: no
// UpdateTimeToLive (so no TTL deletion), no transactions, and
// ReturnValuesOnConditionCheckFailure is ignored. dynamo_test.go pins what it
// does answer.
func StartDynamo(ctx context.Context, opts ...Option) (*Server, error) {
	return start(ctx, "dynalite", filepath.Join("dynalite", "launcher.cjs"), opts,
		func(_ string, cfg startConfig) []string {
			if cfg.tableDelay < 0 {
				return nil
			}
			return []string{"--create-table-ms", strconv.FormatInt(cfg.tableDelay.Milliseconds(), 10)}
		})
}

// WithTableDelay sets how long dynalite keeps a new (or deleted, or updated)
// table in the CREATING (DELETING, UPDATING) state. dynalite's default is
// 500ms, which keeps code honest about waiting for ACTIVE as real DynamoDB
// needs; 0 makes tables usable at once. Other emulators ignore it.
func WithTableDelay(d time.Duration) Option {
	return func(c *startConfig) { c.tableDelay = max(d, 0) }
}

// NewDynamoClient returns a DynamoDB client for the emulator at endpoint, with
// region us-east-1, dummy static credentials (dynalite wants a signature but
// checks no key) and aws.NopRetryer: the caller owns retries, as the product does.
func NewDynamoClient(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		Credentials:  staticCredentials(),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      aws.NopRetryer{},
	}, optFns...)
}

// DynamoEnv returns the environment variables that point the cognito-resend
// binary (or any AWS SDK) at the DynamoDB emulator at endpoint: the endpoint,
// the region and dummy credentials.
func DynamoEnv(endpoint string) []string {
	return []string{
		EnvDynamoEndpoint + "=" + endpoint,
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
	}
}

// TableOptions describes a table for CreateTable.
type TableOptions struct {
	// HashKey is the partition key's attribute name (type S); required.
	HashKey string
	// RangeKey is the sort key's attribute name (type S); empty for none.
	RangeKey string
}

// CreateTable creates an on-demand (PAY_PER_REQUEST) table with string keys
// and waits until it is ACTIVE.
func CreateTable(ctx context.Context, c *dynamodb.Client, name string, opts TableOptions) error {
	if opts.HashKey == "" {
		return errors.New("emu: CreateTable: HashKey is required")
	}
	attrs := []ddbtypes.AttributeDefinition{{AttributeName: aws.String(opts.HashKey), AttributeType: ddbtypes.ScalarAttributeTypeS}}
	keys := []ddbtypes.KeySchemaElement{{AttributeName: aws.String(opts.HashKey), KeyType: ddbtypes.KeyTypeHash}}
	if opts.RangeKey != "" {
		attrs = append(attrs, ddbtypes.AttributeDefinition{AttributeName: aws.String(opts.RangeKey), AttributeType: ddbtypes.ScalarAttributeTypeS})
		keys = append(keys, ddbtypes.KeySchemaElement{AttributeName: aws.String(opts.RangeKey), KeyType: ddbtypes.KeyTypeRange})
	}
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: attrs,
		KeySchema:            keys,
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		return fmt.Errorf("emu: CreateTable %s: %w", name, err)
	}
	return WaitTableActive(ctx, c, name, 30*time.Second)
}

// WaitTableActive polls DescribeTable until the table is ACTIVE or timeout passes.
func WaitTableActive(ctx context.Context, c *dynamodb.Client, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err == nil && out.Table != nil && out.Table.TableStatus == ddbtypes.TableStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return fmt.Errorf("emu: table %s not ACTIVE after %s: %w", name, timeout, err)
		case <-ticker.C:
		}
	}
}
