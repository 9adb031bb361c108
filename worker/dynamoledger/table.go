package dynamoledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// tableName is DynamoDB's rule for a table name.
var tableName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// ValidTableName says why name can't be a table's ("" if it can).
func ValidTableName(name string) string {
	if !tableName.MatchString(name) {
		return "must be 3-255 characters: letters, digits, _ . -"
	}
	return ""
}

// WaitActiveDefault bounds how long `ledger init` waits for a new table to be ACTIVE.
const WaitActiveDefault = 2 * time.Minute

// SchemaError says how an existing table differs from the ledger's key schema.
type SchemaError struct {
	Table, Region string
	Diffs         []string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("%s exists but is not a cognito-resend ledger: %s", where(e.Table, e.Region), strings.Join(e.Diffs, "; "))
}

// schemaDiffs compares a table with the ledger's key schema: pk (S) hash, sk (S) range.
func schemaDiffs(t *types.TableDescription) []string {
	var diffs []string
	types_ := map[string]types.ScalarAttributeType{}
	for _, a := range t.AttributeDefinitions {
		types_[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	var hash, rng string
	for _, k := range t.KeySchema {
		switch k.KeyType {
		case types.KeyTypeHash:
			hash = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			rng = aws.ToString(k.AttributeName)
		}
	}
	check := func(role, got, want string) {
		switch {
		case got == "":
			diffs = append(diffs, fmt.Sprintf("no %s key, want %s (S)", role, want))
		case got != want:
			diffs = append(diffs, fmt.Sprintf("%s key is %s, want %s (S)", role, got, want))
		case types_[got] != types.ScalarAttributeTypeS:
			diffs = append(diffs, fmt.Sprintf("%s key %s is of type %s, want S", role, got, types_[got]))
		}
	}
	check("partition", hash, AttrPK)
	check("sort", rng, AttrSK)
	return diffs
}

type describer interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

func describe(ctx context.Context, api describer, c caller, table string) (*types.TableDescription, error) {
	var out *dynamodb.DescribeTableOutput
	err := c.do(ctx, "describe_table", func(ctx context.Context) error {
		var err error
		out, err = api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.Table, nil
}

// MissingError: no table of that name in the region asked. It gives no advice: whether
// `ledger init` is the fix depends on the other regions the operator named (a table
// there means a wrong region, and a second, empty ledger would let every user it
// recorded get a second code); see Exists.
type MissingError struct {
	Table, Region string
}

func (e *MissingError) Error() string {
	if e.Region == "" {
		return fmt.Sprintf("ledger table %s does not exist", e.Table)
	}
	return fmt.Sprintf("ledger table %s does not exist in %s", e.Table, e.Region)
}

func (e *MissingError) Unwrap() error { return ErrTable }

// missing turns DynamoDB's "no such table" answer into a *MissingError; other errors
// are returned as they are.
func missing(err error, c caller) error {
	var rnf *types.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return &MissingError{Table: c.table, Region: c.region}
	}
	return err
}

// Check verifies, before a campaign's first claim, that the table exists (else a
// *MissingError), is usable and has the ledger's key schema.
func Check(ctx context.Context, api describer, table string, c caller) error {
	t, err := describe(ctx, api, c, table)
	if err != nil {
		return missing(err, c)
	}
	if d := schemaDiffs(t); len(d) > 0 {
		return &SchemaError{Table: table, Region: c.region, Diffs: d}
	}
	if st := t.TableStatus; st != types.TableStatusActive && st != types.TableStatusUpdating {
		return tableErr("%s is %s, not ACTIVE", named(table, c.region), st)
	}
	return nil
}

// Exists reports whether a table named table exists in the region of api (for the
// advice on a *MissingError: is it in another region the operator named?); a failed
// call is retried, waiting on clk.
func Exists(ctx context.Context, api describer, table, region string, clk clock.Clock) (bool, error) {
	c := caller{table: table, region: region, timeout: CallTimeoutDefault, policy: RetryDefault, clock: clock.Must(clk, "dynamoledger.Exists")}
	_, err := describe(ctx, api, c, table)
	var me *MissingError
	switch err = missing(err, c); {
	case err == nil:
		return true, nil
	case errors.As(err, &me):
		return false, nil
	}
	return false, err
}

// InitOptions configures Init; zero fields get defaults.
type InitOptions struct {
	// WaitActive bounds the wait for a new table (WaitActiveDefault).
	WaitActive time.Duration
	// Region is the table's (api's), named in errors.
	Region string
	Logger *slog.Logger
	Clock  clock.Clock
}

// activePoll is how often `ledger init` reads a new table's status until it is ACTIVE
// (InitOptions.WaitActive bounds it).
var activePoll = pacing.Policy{Base: 500 * time.Millisecond, Max: 500 * time.Millisecond, Exact: true}

// errNotActive is a status read that found the table not yet ACTIVE.
var errNotActive = errors.New("the table is not ACTIVE yet")

// InitResult is what `ledger init` did.
type InitResult struct {
	Created bool   // false: the table existed with the right key schema
	TTL     string // "enabled", "already enabled", or why not
	// Warnings are differences that don't stop the ledger (e.g. provisioned billing).
	Warnings []string
}

// Init creates the ledger table (on-demand billing, the key schema, TTL on expires_at
// where the endpoint supports it) and waits until it is ACTIVE. It is idempotent: a
// table that exists with the right key schema is left as it is (TTL enabled if off); one
// with another schema is a *SchemaError naming what differs.
func Init(ctx context.Context, api DynamoDBAdminAPI, table string, opts InitOptions) (InitResult, error) {
	clk := clock.Must(opts.Clock, "dynamoledger.Init")
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wait := opts.WaitActive
	if wait <= 0 {
		wait = WaitActiveDefault
	}
	c := caller{table: table, region: opts.Region, timeout: CallTimeoutDefault, policy: RetryDefault, clock: clk}
	var res InitResult
	err := c.do(ctx, "create_table", func(ctx context.Context) error {
		_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(table),
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String(AttrPK), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String(AttrSK), AttributeType: types.ScalarAttributeTypeS},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
			},
			BillingMode: types.BillingModePayPerRequest,
		})
		return err
	})
	var inUse *types.ResourceInUseException
	switch {
	case err == nil:
		res.Created = true
		log.Info("table created; waiting until it is ACTIVE", "table", table, "region", opts.Region)
	case errors.As(err, &inUse):
		log.Info("table exists; checking its schema", "table", table)
	default:
		return res, err
	}

	deadline := clk.Now().Add(wait)
	poll := activePoll
	poll.Attempts = int((wait+poll.Base-1)/poll.Base) + 1 // the deadline ends it first
	var status types.TableStatus
	err = pacing.Retry(ctx, clk, poll, func(ctx context.Context) error {
		t, err := describe(ctx, api, c, table)
		if err != nil {
			return err
		}
		if d := schemaDiffs(t); len(d) > 0 {
			return &SchemaError{Table: table, Region: c.region, Diffs: d}
		}
		status = t.TableStatus
		if status == types.TableStatusActive || status == types.TableStatusUpdating {
			if b := t.BillingModeSummary; b != nil && b.BillingMode == types.BillingModeProvisioned {
				res.Warnings = append(res.Warnings, "billing is PROVISIONED, not on demand: claims are throttled "+
					"(and retried) when a campaign outruns the provisioned writes")
			}
			return nil
		}
		if !clk.Now().Before(deadline) {
			return errNotActive
		}
		return pacing.Retryable(errNotActive)
	})
	if errors.Is(err, errNotActive) {
		return res, tableErr("%s is still %s after %s", named(table, c.region), status, wait)
	}
	if err != nil {
		return res, err
	}

	res.TTL, err = enableTTL(ctx, api, c, table)
	if err != nil {
		return res, err
	}
	log.Info("ledger table ready", "table", table, "created", res.Created, "ttl", res.TTL)
	return res, nil
}

// enableTTL turns on TTL deletion on expires_at. An endpoint without TTL (dynalite,
// some emulators: UnknownOperationException) is fine: expiry is judged from the
// attribute, TTL only tidies the table.
func enableTTL(ctx context.Context, api DynamoDBAdminAPI, c caller, table string) (string, error) {
	const unsupported = "not supported by this endpoint (records are still judged by expires_at; real DynamoDB supports it)"
	var desc *dynamodb.DescribeTimeToLiveOutput
	err := c.do(ctx, "describe_ttl", func(ctx context.Context) error {
		var err error
		desc, err = api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
		return err
	})
	switch {
	case unknownOperation(err):
		return unsupported, nil
	case err != nil:
		return "", err
	}
	if d := desc.TimeToLiveDescription; d != nil {
		switch d.TimeToLiveStatus {
		case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
			if attr := aws.ToString(d.AttributeName); attr != AttrExpiresAt {
				return "", &SchemaError{Table: table, Region: c.region, Diffs: []string{fmt.Sprintf("TTL is on attribute %s, want %s", attr, AttrExpiresAt)}}
			}
			return "already enabled", nil
		}
	}
	err = c.do(ctx, "update_ttl", func(ctx context.Context) error {
		_, err := api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(AttrExpiresAt), Enabled: aws.Bool(true)}})
		return err
	})
	if unknownOperation(err) {
		return unsupported, nil
	}
	if err != nil {
		return "", err
	}
	return "enabled", nil
}

func unknownOperation(err error) bool {
	return awserr.Code(err) == "UnknownOperationException"
}
