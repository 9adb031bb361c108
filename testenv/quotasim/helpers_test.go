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

// fakeClock is a manually advanced TimerClock.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	timers []fakeTimer
	armed  chan struct{} // one token per After call
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), armed: make(chan struct{}, 1<<16)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// After fires when the clock has been advanced by d.
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.timers = append(c.timers, fakeTimer{c.t.Add(d), ch})
	c.armed <- struct{}{}
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.fireLocked()
}

// FireNext waits until a timer is armed (false if done is closed first), moves the
// clock to the earliest timer's deadline and fires the timers due then.
func (c *fakeClock) FireNext(done <-chan struct{}) bool {
	for {
		select {
		case <-c.armed:
		case <-done:
			return false
		}
		c.mu.Lock()
		if len(c.timers) == 0 { // that timer was fired by Advance
			c.mu.Unlock()
			continue
		}
		next := c.timers[0].at
		for _, tm := range c.timers {
			if tm.at.Before(next) {
				next = tm.at
			}
		}
		if next.After(c.t) {
			c.t = next
		}
		c.fireLocked()
		c.mu.Unlock()
		return true
	}
}

func (c *fakeClock) fireLocked() {
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(c.t) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- c.t
	}
	c.timers = kept
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
