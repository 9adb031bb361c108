package campaign

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
)

// Every AWS client the campaign builds makes exactly one request per call, even for an
// answer the SDK's standard retryer would retry (HTTP 500): the project's retry layer is
// the only one.
func TestAWSClientsHaveNoRetryer(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"__type":"InternalErrorException","message":"boom"}`))
	}))
	t.Cleanup(srv.Close)
	ac := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(emu.AccessKeyID, emu.SecretAccessKey, "")}
	queue := srv.URL + "/000000000000/q"
	calls := map[string]func(ctx context.Context) error{
		"cognito ResendConfirmationCode": func(ctx context.Context) error {
			_, err := newCognito(ac).ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{
				ClientId: aws.String("client"), Username: aws.String("alice")})
			return err
		},
		"cognito ListUsers": func(ctx context.Context) error {
			_, err := newCognito(ac).ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String("us-east-1_x")})
			return err
		},
		"sqs ReceiveMessage": func(ctx context.Context) error {
			_, err := newSQS(ac, queue).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue)})
			return err
		},
		"dynamodb PutItem": func(ctx context.Context) error {
			_, err := newDynamo(ac, ac.Region).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ledger"),
				Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
			return err
		},
		"sqs SendMessageBatch": func(ctx context.Context) error {
			_, err := newSQS(ac, queue).SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queue),
				Entries: []sqstypes.SendMessageBatchRequestEntry{{Id: aws.String("0"), MessageBody: aws.String("alice")}}})
			return err
		},
	}
	for name, call := range calls {
		requests.Store(0)
		require.Error(t, call(t.Context()), name)
		require.Equal(t, int64(1), requests.Load(), "%s: requests for one call", name)
	}
}
