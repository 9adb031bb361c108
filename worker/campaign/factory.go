package campaign

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/fleet"
	"github.com/cognito-resend/cognito-resend/worker/source/enqueue"
	"github.com/cognito-resend/cognito-resend/worker/source/lambdasource"
	"github.com/cognito-resend/cognito-resend/worker/source/sqssource"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

// Factory builds the AWS side of a campaign: each client as the small interfaces its
// users declare (cli/cli's cmdutil.Factory, river's driver). The production one is
// AWSFactory (the standard AWS chain, every client with aws.NopRetryer{}); a unit test
// passes fakes, so the campaign's policies run without the binary or an emulator.
type Factory interface {
	// Target is where the Cognito calls go (the region, the endpoint).
	Target() Target
	// Cognito makes every Cognito call of the campaign.
	Cognito() CognitoAPI
	// SQS makes the queue's calls; queueURL may set its region ("": the campaign's).
	SQS(queueURL string) SQSAPI
	// Dynamo makes the ledger table's (and the fleet's, the budget's) calls in region.
	Dynamo(region string) DynamoAPI
}

// OpenFactory opens a campaign's Factory from its config: Env.Factory. An error is a
// usage error (the region, above all) unless it says otherwise.
type OpenFactory func(ctx context.Context, cfg config.Config) (Factory, error)

// CognitoAPI is every Cognito call a campaign makes, as their users declare them.
type CognitoAPI interface {
	cognito.API                  // ResendConfirmationCode
	cognito.InviteAPI            // AdminCreateUser RESEND (--invitations)
	userpool.ListUsersAPI        // the pool source, the --verify-users census and lookups
	userpool.AdminGetUserAPI     // --verify-with admin-get-user
	userpool.DescribeUserPoolAPI // the username case rule
}

// SQSAPI is every SQS call of a queue worker, a Lambda function and enqueue.
type SQSAPI interface {
	sqssource.SQSAPI
	enqueue.SQSSendAPI
	lambdasource.VisibilityAPI
}

// DynamoAPI is every DynamoDB call of the ledger table: the campaign's claims and
// budget, the fleet's heartbeats, and the ledger commands.
type DynamoAPI interface {
	dynamoledger.DynamoDBAPI
	dynamoledger.DynamoDBAdminAPI
	dynamoledger.DynamoDBReadAPI
	fleet.DynamoDBFleetAPI
}

// AWSFactory is the production Factory: cfg's AWS configuration loaded from the standard
// chain (loadAWS: the region checked, the Cognito endpoint resolved), its clients built
// with aws.NopRetryer{} (newCognito, newSQS, newDynamo). cmd wires it.
func AWSFactory(ctx context.Context, cfg config.Config) (Factory, error) {
	ac, t, err := loadAWS(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &awsFactory{ac: ac, target: t}, nil
}

type awsFactory struct {
	ac      aws.Config
	target  Target
	once    sync.Once
	cognito CognitoAPI // one client: it is safe for concurrent use
}

func (f *awsFactory) Target() Target { return f.target }

func (f *awsFactory) Cognito() CognitoAPI {
	f.once.Do(func() { f.cognito = newCognito(f.ac) })
	return f.cognito
}

func (f *awsFactory) SQS(queueURL string) SQSAPI { return newSQS(f.ac, queueURL) }

func (f *awsFactory) Dynamo(region string) DynamoAPI { return newDynamo(f.ac, region) }
