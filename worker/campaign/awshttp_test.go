package campaign

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/stretchr/testify/require"
)

// With more workers than the SDK's 10 idle connections a host, every round of calls
// keeps one connection a worker: none is closed and dialled again (the SDK's pool alone
// dials 54 new connections a round at 64 workers).
func TestCognitoClientKeepsAConnectionPerWorker(t *testing.T) {
	t.Parallel()
	const workers, rounds = 64, 4
	require.Greater(t, workers, awshttp.DefaultHTTPTransportMaxIdleConnsPerHost)
	var dials atomic.Int64
	var arrived sync.WaitGroup // each round's calls are all in the handler at once
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		arrived.Done()
		arrived.Wait()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	ac := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}}
	keepConnections(&ac, workers)
	c := newCognito(ac)
	for range rounds {
		arrived.Add(workers)
		var calls sync.WaitGroup
		for range workers {
			calls.Go(func() {
				_, err := c.ResendConfirmationCode(t.Context(), &cip.ResendConfirmationCodeInput{
					ClientId: aws.String("client"), Username: aws.String("alice")})
				require.NoError(t, err)
			})
		}
		calls.Wait()
	}
	// A connection goes back to the idle pool just after its caller has read the answer,
	// so a round can start before the last few are back and dial a handful anew: allow a
	// quarter over one a worker; the SDK's pool alone dials 64+3×54 = 226.
	require.LessOrEqual(t, dials.Load(), int64(workers*5/4), "connections dialled in %d rounds of %d calls", rounds, workers)
	require.GreaterOrEqual(t, dials.Load(), int64(workers))
}
