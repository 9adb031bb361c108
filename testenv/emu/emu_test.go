package emu_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
)

func noRetry(o *cip.Options) { o.Retryer = aws.NopRetryer{} }

func resend(ctx context.Context, c *cip.Client, clientID, username string, secretHash *string) (*cip.ResendConfirmationCodeOutput, error) {
	return c.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{
		ClientId:   aws.String(clientID),
		Username:   aws.String(username),
		SecretHash: secretHash,
	})
}

// lastCode returns the last confirmation code cognito-local logged for username.
func lastCode(t *testing.T, s *emu.Server, username string) string {
	t.Helper()
	logs, err := s.Logs()
	require.NoError(t, err)
	re := regexp.MustCompile(`Username:\s+` + regexp.QuoteMeta(username) + `\s[^│]*│[^│]*│\s*Destination:[^│]*│[^│]*│\s*Code:\s+(\d{6})`)
	m := re.FindAllStringSubmatch(logs, -1)
	require.NotEmpty(t, m, "no code for %s in cognito-local log:\n%s", username, logs)
	return m[len(m)-1][1]
}

func TestCognitoResendConfirmationCode(t *testing.T) {
	t.Parallel()
	srv := emu.Cognito(t)
	ctx := t.Context()

	require.True(t, strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:"), srv.Endpoint)

	pool, err := emu.NewPool(ctx, srv.Endpoint, emu.PoolOptions{})
	require.NoError(t, err)
	secretPool, err := emu.NewPool(ctx, srv.Endpoint, emu.PoolOptions{WithSecret: true})
	require.NoError(t, err)
	require.NotEmpty(t, secretPool.ClientSecret)

	require.NoError(t, pool.SignUp(ctx, "alice", "alice@example.com"))
	require.NoError(t, pool.SignUp(ctx, "bob", "bob@example.com"))
	require.NoError(t, pool.Confirm(ctx, "bob"))
	require.NoError(t, secretPool.SignUp(ctx, "carol", "carol@example.com"))

	c := emu.NewCognitoClient(srv.Endpoint, noRetry)

	t.Run("unconfirmed user gets a code", func(t *testing.T) {
		t.Parallel()
		out, err := resend(ctx, c, pool.ClientID, "alice", nil)
		require.NoError(t, err)
		require.NotNil(t, out.CodeDeliveryDetails)
		require.Equal(t, "email", aws.ToString(out.CodeDeliveryDetails.AttributeName))
		require.Equal(t, types.DeliveryMediumTypeEmail, out.CodeDeliveryDetails.DeliveryMedium)
		require.Equal(t, "a***@e***", aws.ToString(out.CodeDeliveryDetails.Destination))

		// The resent code is stored on the user: ConfirmSignUp accepts it.
		code := lastCode(t, srv, "alice")
		_, err = c.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{
			ClientId:         aws.String(pool.ClientID),
			Username:         aws.String("alice"),
			ConfirmationCode: aws.String(code),
		})
		require.NoError(t, err)

		_, err = resend(ctx, c, pool.ClientID, "alice", nil)
		var ipe *types.InvalidParameterException
		require.ErrorAs(t, err, &ipe)
	})

	t.Run("confirmed user", func(t *testing.T) {
		t.Parallel()
		_, err := resend(ctx, c, pool.ClientID, "bob", nil)
		var ipe *types.InvalidParameterException
		require.ErrorAs(t, err, &ipe)
		require.Equal(t, "User is already confirmed.", ipe.ErrorMessage())
		require.Equal(t, "InvalidParameterException", ipe.ErrorCode())
	})

	t.Run("unknown user", func(t *testing.T) {
		t.Parallel()
		_, err := resend(ctx, c, pool.ClientID, "nobody", nil)
		var unf *types.UserNotFoundException
		require.ErrorAs(t, err, &unf)
		require.Equal(t, "Username/client id combination not found.", unf.ErrorMessage())
	})

	t.Run("invalid usernames", func(t *testing.T) {
		t.Parallel()
		for _, u := range []string{"has space", strings.Repeat("x", 129)} {
			_, err := resend(ctx, c, pool.ClientID, u, nil)
			var ipe *types.InvalidParameterException
			require.ErrorAs(t, err, &ipe, u)
			require.Contains(t, ipe.ErrorMessage(), "failed to satisfy constraint")
		}
	})

	t.Run("unknown client id", func(t *testing.T) {
		t.Parallel()
		_, err := resend(ctx, c, "doesnotexist0000000000000", "alice", nil)
		var rnf *types.ResourceNotFoundException
		require.ErrorAs(t, err, &rnf)
	})

	t.Run("secret client without SecretHash", func(t *testing.T) {
		t.Parallel()
		_, err := resend(ctx, c, secretPool.ClientID, "carol", nil)
		var na *types.NotAuthorizedException
		require.ErrorAs(t, err, &na)
		require.Equal(t, "Client "+secretPool.ClientID+" is configured with secret but SECRET_HASH was not received", na.ErrorMessage())
	})

	t.Run("secret client with wrong SecretHash", func(t *testing.T) {
		t.Parallel()
		_, err := resend(ctx, c, secretPool.ClientID, "carol", aws.String(emu.SecretHash("carol", secretPool.ClientID, "wrong")))
		var na *types.NotAuthorizedException
		require.ErrorAs(t, err, &na)
		require.Equal(t, "Unable to verify secret hash for client "+secretPool.ClientID, na.ErrorMessage())
	})

	t.Run("secret client with right SecretHash", func(t *testing.T) {
		t.Parallel()
		out, err := resend(ctx, c, secretPool.ClientID, "carol", secretPool.SecretHash("carol"))
		require.NoError(t, err)
		require.Equal(t, types.DeliveryMediumTypeEmail, out.CodeDeliveryDetails.DeliveryMedium)
	})
}

// emulators are the Start functions the lifecycle tests run for each emulator.
var emulators = []struct {
	name  string
	start func(context.Context, ...emu.Option) (*emu.Server, error)
}{
	{"cognito-local", emu.StartCognito},
	{"fauxqs", emu.StartSQS},
	{"dynalite", emu.StartDynamo},
}

func TestCloseStopsServer(t *testing.T) {
	t.Parallel()
	for _, e := range emulators {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			srv, err := e.start(t.Context())
			require.NoError(t, err)
			addr := strings.TrimPrefix(srv.Endpoint, "http://")
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			conn.Close()

			require.NoError(t, srv.Close())
			require.NoError(t, srv.Close()) // idempotent
			_, err = os.Stat(srv.Dir)
			require.True(t, errors.Is(err, os.ErrNotExist), "temp dir not removed: %v", err)
			_, err = net.Dial("tcp", addr)
			require.Error(t, err)
		})
	}
}

func TestSQS(t *testing.T) {
	t.Parallel()
	srv := emu.SQS(t)
	ctx := t.Context()
	require.True(t, strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:"), srv.Endpoint)

	c := emu.NewSQSClient(srv.Endpoint, func(o *sqs.Options) { o.Retryer = aws.NopRetryer{} })

	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("emu-test")})
	require.NoError(t, err)
	require.Equal(t, srv.Endpoint+"/000000000000/emu-test", aws.ToString(q.QueueUrl))

	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    q.QueueUrl,
		MessageBody: aws.String(`{"username":"alice"}`),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"attempt": {DataType: aws.String("Number"), StringValue: aws.String("1")},
		},
	})
	require.NoError(t, err)

	rcv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:              q.QueueUrl,
		MaxNumberOfMessages:   10,
		WaitTimeSeconds:       1,
		MessageAttributeNames: []string{"All"},
	})
	require.NoError(t, err)
	require.Len(t, rcv.Messages, 1)
	require.Equal(t, `{"username":"alice"}`, aws.ToString(rcv.Messages[0].Body))
	require.Equal(t, "1", aws.ToString(rcv.Messages[0].MessageAttributes["attempt"].StringValue))

	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl:      q.QueueUrl,
		ReceiptHandle: rcv.Messages[0].ReceiptHandle,
	})
	require.NoError(t, err)

	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	require.NoError(t, err)
	require.Equal(t, "0", attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	require.Equal(t, "0", attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
}

func TestStartFailureIncludesLogTail(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	for _, e := range emulators {
		t.Run(e.name, func(t *testing.T) {
			_, err := e.start(t.Context(), emu.WithPort(port))
			require.Error(t, err)
			require.Contains(t, err.Error(), e.name+" log (tail)")
			require.Contains(t, err.Error(), "EADDRINUSE")
		})
	}
}

// A start the caller cancels (the lambda demo's Ctrl-C 1 s in) says so; it said "not
// ready after 30s: context canceled".
func TestStartInterrupted(t *testing.T) {
	t.Parallel()
	for _, e := range emulators {
		t.Run(e.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel() // a Ctrl-C as it starts: before it can be ready, whatever the machine's speed
			_, err := e.start(ctx)
			require.Error(t, err)
			require.Equal(t, "emu: "+e.name+": start interrupted: context canceled", err.Error())
		})
	}
}

// helperEnv makes the test binary act as a process that starts the emulator it
// names, prints its endpoint and blocks; TestDiesWithParent SIGKILLs it.
const helperEnv = "EMU_TEST_START_HELPER"

func TestDiesWithParent(t *testing.T) {
	if name := os.Getenv(helperEnv); name != "" {
		var srv *emu.Server
		var err error
		for _, e := range emulators {
			if e.name == name {
				srv, err = e.start(context.Background())
			}
		}
		if srv == nil || err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("dir", srv.Dir)
		fmt.Println("endpoint", srv.Endpoint)
		select {}
	}
	t.Parallel()
	for _, e := range emulators {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			diesWithParent(t, e.name)
		})
	}
}

func diesWithParent(t *testing.T, name string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiesWithParent$")
	cmd.Env = append(os.Environ(), helperEnv+"="+name)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	var endpoint string
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "dir "); ok {
			t.Cleanup(func() { _ = os.RemoveAll(d) }) // the killed helper cannot
		}
		if e, ok := strings.CutPrefix(sc.Text(), "endpoint "); ok {
			endpoint = e
			break
		}
	}
	require.NotEmpty(t, endpoint, "helper did not start %s", name)
	resp, err := http.Get(endpoint + "/health")
	require.NoError(t, err)
	resp.Body.Close()

	// SIGKILL: no Close, no cleanup. The emulator sees its stdin pipe close and exits.
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.Eventually(t, func() bool {
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "http://"), 200*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err != nil
	}, 10*time.Second, 50*time.Millisecond, "%s outlived the process that started it", name)
}
