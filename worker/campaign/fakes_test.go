package campaign

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
)

// fakeCognito is a user pool in memory: it answers every Cognito call a campaign makes
// and counts them by operation and user.
type fakeCognito struct {
	mu    sync.Mutex
	users map[string]types.UserStatusType // the pool
	calls map[string][]string             // operation → the usernames asked for ("" for a page)
	// resend, when set, answers ResendConfirmationCode (nil error: sent).
	resend func(ctx context.Context, username string) error
}

func newFakeCognito(users map[string]types.UserStatusType) *fakeCognito {
	return &fakeCognito{users: users, calls: map[string][]string{}}
}

func (f *fakeCognito) record(op, username string) (types.UserStatusType, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op] = append(f.calls[op], username)
	st, ok := f.users[username]
	return st, ok
}

// called is the usernames op was called for, in order.
func (f *fakeCognito) called(op string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls[op]...)
}

func (f *fakeCognito) ResendConfirmationCode(ctx context.Context, in *cip.ResendConfirmationCodeInput, _ ...func(*cip.Options)) (*cip.ResendConfirmationCodeOutput, error) {
	name := aws.ToString(in.Username)
	f.record("ResendConfirmationCode", name)
	if f.resend != nil {
		if err := f.resend(ctx, name); err != nil {
			return nil, err
		}
	}
	return &cip.ResendConfirmationCodeOutput{CodeDeliveryDetails: &types.CodeDeliveryDetailsType{
		DeliveryMedium: types.DeliveryMediumTypeEmail, Destination: aws.String("u***@e.test"), AttributeName: aws.String("email")}}, nil
}

func (f *fakeCognito) AdminCreateUser(_ context.Context, in *cip.AdminCreateUserInput, _ ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error) {
	name := aws.ToString(in.Username)
	if _, ok := f.record("AdminCreateUser", name); !ok {
		return nil, &types.UserNotFoundException{Message: aws.String("User does not exist.")}
	}
	return &cip.AdminCreateUserOutput{User: &types.UserType{Username: aws.String(name), UserStatus: types.UserStatusTypeForceChangePassword}}, nil
}

func (f *fakeCognito) AdminGetUser(_ context.Context, in *cip.AdminGetUserInput, _ ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	name := aws.ToString(in.Username)
	st, ok := f.record("AdminGetUser", name)
	if !ok {
		return nil, &types.UserNotFoundException{Message: aws.String("User does not exist.")}
	}
	return &cip.AdminGetUserOutput{Username: aws.String(name), UserStatus: st, Enabled: true}, nil
}

// ListUsers answers the two filters the campaign sends: a user by name (a lookup), and
// every user of one status (a listing, one page).
func (f *fakeCognito) ListUsers(_ context.Context, in *cip.ListUsersInput, _ ...func(*cip.Options)) (*cip.ListUsersOutput, error) {
	filter := aws.ToString(in.Filter)
	name, lookup := strings.CutPrefix(filter, `username = "`)
	name = strings.TrimSuffix(name, `"`)
	if !lookup {
		name = ""
	}
	f.record("ListUsers", name)
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &cip.ListUsersOutput{}
	for u, st := range f.users {
		if (lookup && u == name) || (!lookup && filter == `cognito:user_status = "`+string(st)+`"`) {
			out.Users = append(out.Users, types.UserType{Username: aws.String(u), UserStatus: st, Enabled: true})
		}
	}
	return out, nil
}

func (f *fakeCognito) DescribeUserPool(_ context.Context, in *cip.DescribeUserPoolInput, _ ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error) {
	f.record("DescribeUserPool", "")
	f.mu.Lock()
	defer f.mu.Unlock()
	return &cip.DescribeUserPoolOutput{UserPool: &types.UserPoolType{Id: in.UserPoolId,
		EstimatedNumberOfUsers: int32(len(f.users)),
		UsernameConfiguration:  &types.UsernameConfigurationType{CaseSensitive: aws.Bool(false)}}}, nil
}

// deniedTable is a ledger table that is there (DescribeTable: the ledger's key schema,
// ACTIVE) and refuses every other call with AccessDeniedException; it counts them.
type deniedTable struct {
	DynamoAPI // every other call: not made by the tests that use it
	mu        sync.Mutex
	calls     []string
}

func (d *deniedTable) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	s := ddbtypes.ScalarAttributeTypeS
	return &dynamodb.DescribeTableOutput{Table: &ddbtypes.TableDescription{TableName: in.TableName,
		TableStatus: ddbtypes.TableStatusActive,
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String(dynamoledger.AttrPK), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(dynamoledger.AttrSK), KeyType: ddbtypes.KeyTypeRange}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(dynamoledger.AttrPK), AttributeType: s},
			{AttributeName: aws.String(dynamoledger.AttrSK), AttributeType: s}}}}, nil
}

func (d *deniedTable) deny(op string) error {
	d.mu.Lock()
	d.calls = append(d.calls, op)
	d.mu.Unlock()
	return &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform dynamodb:" + op}
}

func (d *deniedTable) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, d.deny("PutItem")
}

func (d *deniedTable) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, d.deny("Query")
}

func (d *deniedTable) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, d.deny("DeleteItem")
}

func (d *deniedTable) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, d.deny("GetItem")
}

// fakeFactory is a campaign's AWS side in memory: Cognito is fake; the queue and the
// table are not there (a test of them passes its own).
type fakeFactory struct {
	cognito *fakeCognito
	sqs     SQSAPI
	dynamo  DynamoAPI
}

func (f *fakeFactory) Target() Target {
	return Target{Region: "us-east-1", Endpoint: "http://127.0.0.1:1", Override: true}
}
func (f *fakeFactory) Cognito() CognitoAPI     { return f.cognito }
func (f *fakeFactory) SQS(string) SQSAPI       { return f.sqs }
func (f *fakeFactory) Dynamo(string) DynamoAPI { return f.dynamo }
func (f *fakeFactory) open() OpenFactory {
	return func(context.Context, config.Config) (Factory, error) { return f, nil }
}

// testCampaign is a validated campaign of the CSV of users (a username a line, after a
// header) in dir, on the fake factory and clock; edit changes the defaults first.
func testCampaign(t *testing.T, dir string, users []string, f *fakeFactory, clk clockwork.Clock, edit func(*config.Config)) *Campaign {
	t.Helper()
	csv := filepath.Join(dir, "users.csv")
	if _, err := os.Stat(csv); err != nil {
		require.NoError(t, os.WriteFile(csv, []byte("username\n"+strings.Join(users, "\n")+"\n"), 0o600))
	}
	cfg := config.Default()
	cfg.CSV, cfg.Report, cfg.ClientID, cfg.Region = csv, filepath.Join(dir, "report.csv"), "client", "us-east-1"
	cfg.Rate, cfg.Burst, cfg.Workers = 1000, 1000, 4
	if edit != nil {
		edit(&cfg)
	}
	require.NoError(t, cfg.Validate())
	c := New(cfg, Env{Clock: clk, Factory: f.open()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
