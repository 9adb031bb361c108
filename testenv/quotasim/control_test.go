package quotasim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestControlEndpointsResetAndConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	sim, srv := newSimServer(t, Config{Clock: clk})
	c := srv.Client()

	for range 3 {
		require.Equal(t, 200, resend(t, c, srv.URL, "alice").status)
	}
	st, err := FetchStats(ctx, srv.URL)
	require.NoError(t, err)
	require.EqualValues(t, 3, st.Calls)
	require.EqualValues(t, 3, st.Successes)
	require.Equal(t, UserStats{Calls: 3, Successes: 3}, st.PerUser["alice"])
	require.Equal(t, clk.Now(), st.FirstCall)

	// users=0 omits the per-user map.
	resp, err := c.Get(srv.URL + "/__sim/stats?users=0")
	require.NoError(t, err)
	var raw map[string]json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
	resp.Body.Close()
	require.NotContains(t, raw, "per_user")
	require.Contains(t, raw, "calls")

	// PUT merges: only rate/burst change.
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/__sim/config", strings.NewReader(`{"rate":1,"burst":1}`))
	resp, err = c.Do(req)
	require.NoError(t, err)
	var got Config
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, 1.0, got.Rate)
	require.Equal(t, 1, got.Burst)

	require.Equal(t, 200, resend(t, c, srv.URL, "alice").status)
	require.Equal(t, 400, resend(t, c, srv.URL, "alice").status)

	// Invalid config is refused and changes nothing.
	req, _ = http.NewRequest(http.MethodPut, srv.URL+"/__sim/config", strings.NewReader(`{"p5xx":2}`))
	resp, err = c.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 400, resp.StatusCode)
	require.Contains(t, string(b), "p5xx")
	req, _ = http.NewRequest(http.MethodPut, srv.URL+"/__sim/config", strings.NewReader(`{"bogus":1}`))
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 400, resp.StatusCode)
	require.Equal(t, 0.0, sim.Config().P5xx)

	// Reset zeroes counters and refills the bucket.
	require.NoError(t, ResetStats(ctx, srv.URL))
	st, err = FetchStats(ctx, srv.URL)
	require.NoError(t, err)
	require.Zero(t, st.Calls)
	require.Zero(t, st.Throttled)
	require.Empty(t, st.PerUser)
	require.Empty(t, st.PerSecond)
	require.True(t, st.FirstCall.IsZero())
	require.Equal(t, 200, resend(t, c, srv.URL, "alice").status)

	// Client helpers: UpdateConfig (fetch-modify-put) and PutConfig (replace).
	require.NoError(t, UpdateConfig(ctx, srv.URL, func(c *Config) {
		c.Rate = 0
		c.Inject = map[string]InjectedError{"bob": {Type: "LimitExceededException", Message: "x", Times: 1}}
	}))
	r := resend(t, c, srv.URL, "bob")
	require.Equal(t, "LimitExceededException", r.header.Get("X-Amzn-ErrorType"))
	require.Equal(t, 200, resend(t, c, srv.URL, "bob").status)

	require.NoError(t, PutConfig(ctx, srv.URL, Config{InjectAll: &InjectedError{Type: "NotAuthorizedException", Message: "off"}}))
	cfg, err := FetchConfig(ctx, srv.URL)
	require.NoError(t, err)
	require.Empty(t, cfg.Inject)
	require.Equal(t, &InjectedError{Type: "NotAuthorizedException", Message: "off"}, cfg.InjectAll)
	require.Equal(t, 400, resend(t, c, srv.URL, "bob").status)

	// Wrong methods.
	resp, err = c.Get(srv.URL + "/__sim/reset")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestConfigJSON(t *testing.T) {
	t.Parallel()
	cfg := Config{
		Upstream: "http://127.0.0.1:9229", Rate: 12.5, Burst: 3,
		LatencyFixed: 15 * time.Millisecond, LatencyJitter: 5 * time.Millisecond,
		P5xx: 0.1, P503: 0.05, PTimeout: 0.01, PReset: 0.02, MaxHold: 2 * time.Second,
		Inject:    map[string]InjectedError{"u1": {Type: "LimitExceededException", Message: "m", Status: 400, Times: 2}},
		InjectAll: &InjectedError{Type: "NotAuthorizedException"},
		Seed:      7, LimitAllTargets: true, Targets: []string{"AdminGetUser", "ResendConfirmationCode"},
	}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.Contains(t, string(b), `"latency_fixed":"15ms"`)
	var back Config
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, cfg, back)

	// Merge semantics.
	merged := cfg
	require.NoError(t, json.Unmarshal([]byte(`{"rate":3,"latency_fixed":1000000,"inject_all":null,"inject":{}}`), &merged))
	require.Equal(t, 3.0, merged.Rate)
	require.Equal(t, time.Millisecond, merged.LatencyFixed)
	require.Nil(t, merged.InjectAll)
	require.Empty(t, merged.Inject)
	require.Equal(t, cfg.Upstream, merged.Upstream)
	require.Equal(t, cfg.P5xx, merged.P5xx)

	require.Error(t, json.Unmarshal([]byte(`{"latency_fixed":"soon"}`), &merged))
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, Config{}.Validate())
	for name, cfg := range map[string]Config{
		"upstream":    {Upstream: "127.0.0.1:9229"},
		"rate":        {Rate: -1},
		"prob":        {P503: 1.5},
		"sum":         {P5xx: 0.6, P503: 0.6},
		"latency":     {LatencyFixed: -1},
		"inject type": {Inject: map[string]InjectedError{"u": {}}},
		"status":      {InjectAll: &InjectedError{Type: "X", Status: 200}},
		"times":       {InjectAll: &InjectedError{Type: "X", Times: -1}},
	} {
		require.Error(t, cfg.Validate(), name)
		_, err := New(cfg)
		require.Error(t, err, name)
	}
}

func TestParseInjection(t *testing.T) {
	t.Parallel()
	e, err := ParseInjectedError("LimitExceededException:Attempt limit exceeded, please try later.:3")
	require.NoError(t, err)
	require.Equal(t, InjectedError{Type: "LimitExceededException", Message: "Attempt limit exceeded, please try later.", Times: 3}, e)

	e, err = ParseInjectedError("NotAuthorizedException:Time is 12:30:0")
	require.NoError(t, err)
	require.Equal(t, InjectedError{Type: "NotAuthorizedException", Message: "Time is 12:30"}, e, "an explicit :0 is needed for messages ending in :digits")

	e, err = ParseInjectedError("InternalErrorException")
	require.NoError(t, err)
	require.Equal(t, InjectedError{Type: "InternalErrorException"}, e)

	_, err = ParseInjectedError(":msg")
	require.Error(t, err)

	u, e, err := ParseUserInjection("alice=UserNotFoundException:gone:1")
	require.NoError(t, err)
	require.Equal(t, "alice", u)
	require.Equal(t, InjectedError{Type: "UserNotFoundException", Message: "gone", Times: 1}, e)
	_, _, err = ParseUserInjection("LimitExceededException:x")
	require.Error(t, err)
}

func TestPresets(t *testing.T) {
	t.Parallel()
	for _, n := range PresetNames {
		cfg, err := Preset(n)
		require.NoError(t, err, n)
		require.NoError(t, cfg.Validate(), n)
	}
	_, err := Preset("nope")
	require.Error(t, err)
}

func TestCheckLoopback(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"127.0.0.1:0", "127.0.0.2:8080", "[::1]:0", "localhost:9000"} {
		require.NoError(t, CheckLoopback(ok), ok)
	}
	for _, bad := range []string{"0.0.0.0:0", ":8080", "10.0.0.1:80", "example.com:80", "[::]:0", "nonsense"} {
		require.Error(t, CheckLoopback(bad), bad)
	}
}

func TestStartServesUntilContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := Start(ctx, Config{})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"))
	require.Equal(t, 200, resend(t, http.DefaultClient, srv.URL, "alice").status)
	st, err := FetchStats(ctx, srv.URL)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Successes)
	cancel()
	<-srv.Done()

	_, err = StartAddr(context.Background(), "0.0.0.0:0", Config{})
	require.Error(t, err)

	s2 := StartT(t, Config{Rate: 1})
	require.Equal(t, 200, resend(t, http.DefaultClient, s2.URL, "x").status)
	require.Equal(t, 1.0, s2.Sim.Config().Rate)
}

func TestCloseReleasesHeldRequests(t *testing.T) {
	t.Parallel()
	srv, err := Start(context.Background(), Config{PTimeout: 1}) // 30 s hold
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"Username":"u"}`))
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.ResendConfirmationCode")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	// Wait until the request is held, by polling the stats endpoint.
	for {
		st, err := FetchStats(context.Background(), srv.URL)
		require.NoError(t, err)
		if st.Faults.Timeout == 1 {
			break
		}
	}
	start := time.Now()
	require.NoError(t, srv.Close())
	require.Error(t, <-errc)
	require.Less(t, time.Since(start), 10*time.Second)
}
