package quotasim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/stretchr/testify/require"
)

// fakeClock is a manually advanced Clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newSimServer starts a Sim behind httptest.
func newSimServer(t *testing.T, cfg Config) (*Sim, *httptest.Server) {
	t.Helper()
	sim, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		sim.Close()
		srv.Close()
	})
	return sim, srv
}

type result struct {
	status int
	header http.Header
	body   string
}

// post sends one AWS JSON 1.1 call for op with the given username.
func post(t *testing.T, c *http.Client, baseURL, op, user string) result {
	t.Helper()
	body := `{"ClientId":"client123","Username":"` + user + `","ClientMetadata":{"k":"v"}}`
	req, err := http.NewRequest(http.MethodPost, baseURL+"/", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", amzJSON)
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return result{resp.StatusCode, resp.Header, string(b)}
}

func resend(t *testing.T, c *http.Client, baseURL, user string) result {
	t.Helper()
	return post(t, c, baseURL, "ResendConfirmationCode", user)
}

// sdkClient is a Cognito client aimed at the simulator, without retries.
func sdkClient(baseURL string, hc *http.Client) *cip.Client {
	return cip.New(cip.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(baseURL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   hc,
	})
}
