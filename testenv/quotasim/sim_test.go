package quotasim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/stretchr/testify/require"
)

func TestThrottleResponseIsExactlyCognitos(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	sim, srv := newSimServer(t, Config{Rate: 1, Burst: 1, Clock: clk})
	c := srv.Client()

	ok := resend(t, c, srv.URL, "alice")
	require.Equal(t, http.StatusOK, ok.status)
	require.JSONEq(t, string(instantBody), ok.body)
	require.Equal(t, amzJSON, ok.header.Get("Content-Type"))
	require.NotEmpty(t, ok.header.Get("x-amzn-RequestId"))

	thr := resend(t, c, srv.URL, "alice")
	require.Equal(t, http.StatusBadRequest, thr.status)
	require.Equal(t, "TooManyRequestsException", thr.header.Get("x-amzn-ErrorType"))
	require.Equal(t, "application/x-amz-json-1.1", thr.header.Get("Content-Type"))
	require.Equal(t, `{"__type":"TooManyRequestsException","message":"Too many requests"}`, thr.body)
	require.NotEmpty(t, thr.header.Get("x-amzn-RequestId"))
	require.NotEqual(t, ok.header.Get("x-amzn-RequestId"), thr.header.Get("x-amzn-RequestId"))

	clk.Advance(time.Second)
	require.Equal(t, http.StatusOK, resend(t, c, srv.URL, "alice").status)

	st := sim.Stats()
	require.EqualValues(t, 3, st.Calls)
	require.EqualValues(t, 2, st.Successes)
	require.EqualValues(t, 1, st.Throttled)
	require.Equal(t, UserStats{Calls: 3, Successes: 2, Throttled: 1}, st.PerUser["alice"])
}

func TestSDKParsesSimulatedErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	input := func(user string) *cip.ResendConfirmationCodeInput {
		return &cip.ResendConfirmationCodeInput{ClientId: aws.String("client123"), Username: aws.String(user)}
	}

	t.Run("success", func(t *testing.T) {
		t.Parallel()
		_, srv := newSimServer(t, Config{})
		out, err := sdkClient(srv.URL, srv.Client()).ResendConfirmationCode(ctx, input("alice"))
		require.NoError(t, err)
		require.Equal(t, "EMAIL", string(out.CodeDeliveryDetails.DeliveryMedium))
		require.Equal(t, "email", aws.ToString(out.CodeDeliveryDetails.AttributeName))
		require.Equal(t, "u***@e***.com", aws.ToString(out.CodeDeliveryDetails.Destination))
	})

	t.Run("throttle", func(t *testing.T) {
		t.Parallel()
		_, srv := newSimServer(t, Config{Rate: 1, Burst: 1, Clock: newFakeClock()})
		cl := sdkClient(srv.URL, srv.Client())
		_, err := cl.ResendConfirmationCode(ctx, input("alice"))
		require.NoError(t, err)
		_, err = cl.ResendConfirmationCode(ctx, input("alice"))
		var tmr *types.TooManyRequestsException
		require.ErrorAs(t, err, &tmr)
		require.Equal(t, "Too many requests", tmr.ErrorMessage())
		var re *awshttp.ResponseError
		require.ErrorAs(t, err, &re)
		require.Equal(t, 400, re.HTTPStatusCode())
	})

	t.Run("per-user LimitExceeded", func(t *testing.T) {
		t.Parallel()
		_, srv := newSimServer(t, Config{Inject: map[string]InjectedError{
			"bob": {Type: "LimitExceededException", Message: "Attempt limit exceeded, please try after some time."},
		}})
		cl := sdkClient(srv.URL, srv.Client())
		_, err := cl.ResendConfirmationCode(ctx, input("bob"))
		var le *types.LimitExceededException
		require.ErrorAs(t, err, &le)
		require.Equal(t, "Attempt limit exceeded, please try after some time.", le.ErrorMessage())
		_, err = cl.ResendConfirmationCode(ctx, input("alice"))
		require.NoError(t, err)
	})

	t.Run("all-calls NotAuthorized", func(t *testing.T) {
		t.Parallel()
		_, srv := newSimServer(t, Config{InjectAll: &InjectedError{Type: "NotAuthorizedException", Message: "Client is disabled"}})
		cl := sdkClient(srv.URL, srv.Client())
		for _, u := range []string{"alice", "bob"} {
			_, err := cl.ResendConfirmationCode(ctx, input(u))
			var na *types.NotAuthorizedException
			require.ErrorAs(t, err, &na)
			require.Equal(t, "Client is disabled", na.ErrorMessage())
		}
	})

	t.Run("5xx InternalError", func(t *testing.T) {
		t.Parallel()
		sim, srv := newSimServer(t, Config{P5xx: 1})
		_, err := sdkClient(srv.URL, srv.Client()).ResendConfirmationCode(ctx, input("alice"))
		var ie *types.InternalErrorException
		require.ErrorAs(t, err, &ie)
		var re *awshttp.ResponseError
		require.ErrorAs(t, err, &re)
		require.Equal(t, 500, re.HTTPStatusCode())
		require.EqualValues(t, 1, sim.Stats().Faults.Internal500)
	})

	t.Run("injected 5xx status", func(t *testing.T) {
		t.Parallel()
		_, srv := newSimServer(t, Config{InjectAll: &InjectedError{Type: "InternalErrorException", Message: "boom", Status: 500}})
		_, err := sdkClient(srv.URL, srv.Client()).ResendConfirmationCode(ctx, input("alice"))
		var ie *types.InternalErrorException
		require.ErrorAs(t, err, &ie)
		var re *awshttp.ResponseError
		require.ErrorAs(t, err, &re)
		require.Equal(t, 500, re.HTTPStatusCode())
	})

	t.Run("bare 503", func(t *testing.T) {
		t.Parallel()
		sim, srv := newSimServer(t, Config{P503: 1})
		r := resend(t, srv.Client(), srv.URL, "alice")
		require.Equal(t, http.StatusServiceUnavailable, r.status)
		require.Empty(t, r.body)
		_, err := sdkClient(srv.URL, srv.Client()).ResendConfirmationCode(ctx, input("alice"))
		var re *awshttp.ResponseError
		require.ErrorAs(t, err, &re)
		require.Equal(t, 503, re.HTTPStatusCode())
		require.EqualValues(t, 2, sim.Stats().Faults.Unavail503)
	})

	t.Run("connection reset", func(t *testing.T) {
		t.Parallel()
		sim, srv := newSimServer(t, Config{PReset: 1})
		_, err := sdkClient(srv.URL, srv.Client()).ResendConfirmationCode(ctx, input("alice"))
		require.Error(t, err)
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			require.Zero(t, re.HTTPStatusCode(), "no HTTP answer expected, got %v", err)
		}
		require.Contains(t, err.Error(), "connection reset by peer")
		st := sim.Stats()
		require.EqualValues(t, 1, st.Faults.ConnReset)
		require.EqualValues(t, 0, st.Successes)
	})

	t.Run("timeout bounded by max hold", func(t *testing.T) {
		t.Parallel()
		sim, srv := newSimServer(t, Config{PTimeout: 1, MaxHold: 20 * time.Millisecond})
		_, err := sdkClient(srv.URL, srv.Client()).ResendConfirmationCode(ctx, input("alice"))
		require.Error(t, err)
		require.EqualValues(t, 1, sim.Stats().Faults.Timeout)
	})

	t.Run("timeout released when client gives up", func(t *testing.T) {
		t.Parallel()
		sim, srv := newSimServer(t, Config{PTimeout: 1}) // default 30 s hold
		// Cancel only once the server holds the request: a fixed client deadline
		// could expire before the request arrives on a loaded machine.
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := sdkClient(srv.URL, srv.Client()).ResendConfirmationCode(cctx, input("alice"))
			done <- err
		}()
		require.Eventually(t, func() bool { return sim.Stats().Faults.Timeout == 1 },
			10*time.Second, 5*time.Millisecond, "the server never held the request")
		cancel()
		select {
		case err := <-done:
			require.Error(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("the held request was not released when the client gave up")
		}
		require.EqualValues(t, 1, sim.Stats().Faults.Timeout)
	})
}

func TestPerUserInjectionTimesAndCounts(t *testing.T) {
	t.Parallel()
	sim, srv := newSimServer(t, Config{Inject: map[string]InjectedError{
		"alice": {Type: "LimitExceededException", Message: "Attempt limit exceeded", Times: 2},
		"carol": {Type: "UserNotFoundException", Message: "Username/client id combination not found."},
	}})
	c := srv.Client()

	for i := range 2 {
		r := resend(t, c, srv.URL, "alice")
		require.Equal(t, http.StatusBadRequest, r.status, "call %d", i)
		require.Equal(t, "LimitExceededException", r.header.Get("x-amzn-ErrorType"))
		require.Equal(t, `{"__type":"LimitExceededException","message":"Attempt limit exceeded"}`, r.body)
	}
	require.Equal(t, http.StatusOK, resend(t, c, srv.URL, "alice").status, "Times=2 exhausted")
	require.Equal(t, http.StatusOK, resend(t, c, srv.URL, "alice").status)
	for range 3 {
		require.Equal(t, http.StatusBadRequest, resend(t, c, srv.URL, "carol").status, "Times=0 means always")
	}
	require.Equal(t, http.StatusOK, resend(t, c, srv.URL, "bob").status)

	st := sim.Stats()
	require.EqualValues(t, 8, st.Calls)
	require.EqualValues(t, 3, st.Successes)
	require.EqualValues(t, 5, st.Faults.Injected)
	require.Equal(t, map[string]int64{"LimitExceededException": 2, "UserNotFoundException": 3}, st.InjectedByType)
	require.Equal(t, map[string]UserStats{
		"alice": {Calls: 4, Successes: 2},
		"bob":   {Calls: 1, Successes: 1},
		"carol": {Calls: 3},
	}, st.PerUser)
	require.Equal(t, []string{"alice", "bob", "carol"}, st.SortedUsers())

	// Reset re-arms Times.
	sim.Reset()
	require.Equal(t, http.StatusBadRequest, resend(t, c, srv.URL, "alice").status)
}

func TestInjectAllTimes(t *testing.T) {
	t.Parallel()
	sim, srv := newSimServer(t, Config{InjectAll: &InjectedError{Type: "NotAuthorizedException", Message: "nope", Times: 2}})
	c := srv.Client()
	require.Equal(t, 400, resend(t, c, srv.URL, "a").status)
	require.Equal(t, 400, resend(t, c, srv.URL, "b").status)
	require.Equal(t, 200, resend(t, c, srv.URL, "c").status)
	require.EqualValues(t, 2, sim.Stats().InjectedByType["NotAuthorizedException"])
}

func TestCountsPerUserWithThrottling(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	sim, srv := newSimServer(t, Config{Rate: 2, Burst: 2, Clock: clk})
	c := srv.Client()

	// second 0: alice, bob pass; alice, bob throttled.
	for _, u := range []string{"alice", "bob", "alice", "bob"} {
		resend(t, c, srv.URL, u)
	}
	clk.Advance(time.Second) // +2 tokens
	for _, u := range []string{"alice", "alice", "alice"} {
		resend(t, c, srv.URL, u)
	}
	clk.Advance(500 * time.Millisecond) // +1 token
	resend(t, c, srv.URL, "bob")

	st := sim.Stats()
	require.EqualValues(t, 8, st.Calls)
	require.EqualValues(t, 5, st.Successes)
	require.EqualValues(t, 3, st.Throttled)
	require.Equal(t, UserStats{Calls: 5, Successes: 3, Throttled: 2}, st.PerUser["alice"])
	require.Equal(t, UserStats{Calls: 3, Successes: 2, Throttled: 1}, st.PerUser["bob"])
	require.Equal(t, clk.Now().Add(-1500*time.Millisecond), st.FirstCall)
	require.Equal(t, clk.Now(), st.LastCall)
	base := st.FirstCall.Unix()
	require.Equal(t, []SecondStats{
		{Unix: base, Successes: 2, Throttled: 2},
		{Unix: base + 1, Successes: 3, Throttled: 1},
	}, st.PerSecond)
}

func TestHistogramRatesAfterWarmup(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	clk.Advance(300 * time.Millisecond) // start mid-second
	sim, srv := newSimServer(t, Config{Rate: 5, Burst: 5, Clock: clk})
	c := srv.Client()

	// 4.5 s of 10 calls/s against Q=5: burst in the first second, then 5/s.
	for range 45 {
		resend(t, c, srv.URL, "u")
		clk.Advance(100 * time.Millisecond)
	}
	st := sim.Stats()
	require.Len(t, st.PerSecond, 5)
	require.Equal(t, int64(7), st.PerSecond[0].Successes, "burst of 5 plus refill over 0.7 s")

	// Seconds 0-1 are warm-up (burst, draining); 2 and 3 are steady; 4 is partial.
	succ, thr, ok := st.RatesAfter(2 * time.Second)
	require.True(t, ok)
	require.InDelta(t, 5.0, succ, 0.01)
	require.InDelta(t, 5.0, thr, 0.01)

	_, _, ok = Stats{}.RatesAfter(0)
	require.False(t, ok)
}

func TestProxyForwardsAndCountsOnly200(t *testing.T) {
	t.Parallel()
	var upstreamCalls atomic.Int64
	var lastBody atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamCalls.Add(1)
		b, _ := io.ReadAll(r.Body)
		lastBody.Store(string(b))
		target := r.Header.Get("X-Amz-Target")
		var in struct{ Username string }
		_ = json.Unmarshal(b, &in)
		w.Header().Set("Content-Type", amzJSON)
		w.Header().Set("X-Upstream", "cognito-local")
		switch {
		case strings.HasSuffix(target, ".SignUp"):
			_, _ = io.WriteString(w, `{"UserConfirmed":false,"UserSub":"sub-1"}`)
		case in.Username == "ghost":
			w.Header().Set("X-Amzn-ErrorType", "UserNotFoundException")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"UserNotFoundException","message":"User does not exist."}`)
		default:
			_, _ = io.WriteString(w, `{"CodeDeliveryDetails":{"AttributeName":"email","DeliveryMedium":"EMAIL","Destination":"a***@x***.com"}}`)
		}
	}))
	t.Cleanup(up.Close)

	clk := newFakeClock()
	sim, srv := newSimServer(t, Config{Upstream: up.URL, Rate: 2, Burst: 2, Clock: clk})
	c := srv.Client()

	r := resend(t, c, srv.URL, "alice")
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "cognito-local", r.header.Get("X-Upstream"))
	require.Contains(t, r.body, "a***@x***.com")
	require.JSONEq(t, `{"ClientId":"client123","Username":"alice","ClientMetadata":{"k":"v"}}`, lastBody.Load().(string),
		"body must reach upstream intact after the sim read it")

	r = resend(t, c, srv.URL, "ghost")
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "UserNotFoundException", r.header.Get("X-Amzn-ErrorType"))

	// Bucket empty: throttled without reaching upstream.
	r = resend(t, c, srv.URL, "alice")
	require.Equal(t, "TooManyRequestsException", r.header.Get("X-Amzn-ErrorType"))
	require.EqualValues(t, 2, upstreamCalls.Load())

	// Other targets pass straight through, unlimited and uncounted.
	for range 5 {
		r = post(t, c, srv.URL, "SignUp", "newbie")
		require.Equal(t, http.StatusOK, r.status)
		require.Contains(t, r.body, "UserSub")
	}
	require.EqualValues(t, 7, upstreamCalls.Load())

	st := sim.Stats()
	require.EqualValues(t, 3, st.Calls)
	require.EqualValues(t, 1, st.Successes)
	require.EqualValues(t, 1, st.Throttled)
	require.EqualValues(t, 1, st.UpstreamNon200)
	require.EqualValues(t, 5, st.Passthrough)
	require.Equal(t, UserStats{Calls: 1}, st.PerUser["ghost"])
	require.NotContains(t, st.PerUser, "newbie")

	// The SDK sees the upstream's typed error through the proxy.
	clk.Advance(time.Second)
	_, err := sdkClient(srv.URL, c).ResendConfirmationCode(context.Background(),
		&cip.ResendConfirmationCodeInput{ClientId: aws.String("c"), Username: aws.String("ghost")})
	var unf *types.UserNotFoundException
	require.ErrorAs(t, err, &unf)
}

func TestProxyUpstreamDown(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.NotFoundHandler())
	upURL := up.URL
	up.Close()
	sim, srv := newSimServer(t, Config{Upstream: upURL})
	r := resend(t, srv.Client(), srv.URL, "alice")
	require.Equal(t, http.StatusBadGateway, r.status)
	require.Equal(t, "InternalErrorException", r.header.Get("X-Amzn-ErrorType"))
	st := sim.Stats()
	require.EqualValues(t, 1, st.UpstreamErrors)
	require.EqualValues(t, 0, st.UpstreamNon200)
	require.EqualValues(t, 0, st.Successes)
}

func TestLimitAllTargets(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	sim, srv := newSimServer(t, Config{Rate: 1, Burst: 1, Clock: clk})
	c := srv.Client()
	require.Equal(t, 200, post(t, c, srv.URL, "SignUp", "a").status)
	require.Equal(t, 200, post(t, c, srv.URL, "SignUp", "a").status, "not limited by default")

	cfg := sim.Config()
	cfg.LimitAllTargets = true
	require.NoError(t, sim.SetConfig(cfg))
	r := post(t, c, srv.URL, "SignUp", "a")
	require.Equal(t, 200, r.status)
	require.Equal(t, `{}`, r.body)
	require.Equal(t, 400, post(t, c, srv.URL, "AdminConfirmSignUp", "a").status)
	st := sim.Stats()
	require.EqualValues(t, 2, st.Calls)
	require.EqualValues(t, 1, st.Throttled)
	require.EqualValues(t, 2, st.Passthrough)
}

// Targets limits, faults and counts the operations it names instead of
// ResendConfirmationCode; the others pass through.
func TestTargets(t *testing.T) {
	t.Parallel()
	sim, srv := newSimServer(t, Config{Targets: []string{"AdminGetUser"},
		InjectAll: &InjectedError{Type: "AccessDeniedException", Message: "not authorized"}})
	c := srv.Client()
	r := post(t, c, srv.URL, "AdminGetUser", "a")
	require.Equal(t, 400, r.status)
	require.Contains(t, r.body, "AccessDeniedException")
	require.Equal(t, 200, post(t, c, srv.URL, "ResendConfirmationCode", "a").status, "not a target: passes")
	st := sim.Stats()
	require.EqualValues(t, 1, st.Calls)
	require.EqualValues(t, 1, st.Passthrough)
	require.Equal(t, []string{"AdminGetUser"}, sim.Config().Targets)
}

func TestInstantModeOtherTargetsAndHealth(t *testing.T) {
	t.Parallel()
	_, srv := newSimServer(t, Config{})
	c := srv.Client()

	resp, err := c.Get(srv.URL + "/health")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "ok\n", string(b))

	resp, err = c.Post(srv.URL+"/", amzJSON, strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 400, resp.StatusCode)
	require.Equal(t, "UnknownOperationException", resp.Header.Get("X-Amzn-ErrorType"))

	resp, err = c.Get(srv.URL + "/__sim/nope")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 404, resp.StatusCode)
}

func TestSeededFaultsAreDeterministic(t *testing.T) {
	t.Parallel()
	pattern := func() string {
		_, srv := newSimServer(t, Config{P5xx: 0.3, P503: 0.2, Seed: 42})
		var sb strings.Builder
		for range 40 {
			switch resend(t, srv.Client(), srv.URL, "u").status {
			case 200:
				sb.WriteByte('.')
			case 500:
				sb.WriteByte('5')
			case 503:
				sb.WriteByte('3')
			}
		}
		return sb.String()
	}
	a, b := pattern(), pattern()
	require.Equal(t, a, b)
	require.Contains(t, a, ".")
	require.Contains(t, a, "5")
	require.Contains(t, a, "3")
}

func TestJitterBounds(t *testing.T) {
	t.Parallel()
	require.Equal(t, 10*time.Millisecond, jittered(10*time.Millisecond, 0, 0.9))
	require.Equal(t, 5*time.Millisecond, jittered(10*time.Millisecond, 5*time.Millisecond, 0))
	require.Equal(t, 15*time.Millisecond, jittered(10*time.Millisecond, 5*time.Millisecond, 1))
	require.Equal(t, 10*time.Millisecond, jittered(10*time.Millisecond, 5*time.Millisecond, 0.5))
	require.Equal(t, time.Duration(0), jittered(time.Millisecond, 5*time.Millisecond, 0), "clamped at zero")
}

func TestUsernameOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, "al\"ice", usernameOf([]byte(`{"ClientId":"x","ClientMetadata":{"Username":"no"},"Username":"al\"ice"}`)))
	require.Equal(t, "", usernameOf(nil))
	require.Equal(t, "", usernameOf([]byte(`not json`)))
}

// TestDailyEmailLimit: after DailyEmailLimit sends, every call is the daily cap's answer;
// Reset (a new day) re-arms it.
func TestDailyEmailLimit(t *testing.T) {
	t.Parallel()
	sim, srv := newSimServer(t, Config{DailyEmailLimit: 2})
	c := srv.Client()
	require.Equal(t, 200, resend(t, c, srv.URL, "a").status)
	require.Equal(t, 200, resend(t, c, srv.URL, "b").status)
	capped := resend(t, c, srv.URL, "c")
	require.Equal(t, 400, capped.status)
	require.Contains(t, capped.body, "Exceeded daily email limit")
	require.EqualValues(t, 2, sim.Stats().Successes)
	sim.Reset()
	require.Equal(t, 200, resend(t, c, srv.URL, "c").status)
}
