package quotasim

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/stretchr/testify/require"
)

func TestClientOf(t *testing.T) {
	t.Parallel()
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	// A User-Agent as aws-sdk-go-v2 v1.48 builds it with AppID "bench-p01".
	sdkUA := "m/E,g aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 " +
		"api/cognitoidentityprovider#1.61.0 app/bench-p01"
	for _, tc := range []struct {
		name string
		h    http.Header
		want string
	}{
		{"sdk app id", hdr("User-Agent", sdkUA), "bench-p01"},
		{"app id wins over the header", hdr("User-Agent", sdkUA, HeaderClient, "other-name"), "bench-p01"},
		{"app id first token", hdr("User-Agent", "app/first x/y"), "first"},
		{"not a token boundary", hdr("User-Agent", "myapp/1.0", HeaderClient, "hdr"), "hdr"},
		{"header fallback", hdr("User-Agent", "curl/8.0", HeaderClient, "probe 1"), "probe-1"},
		{"empty app id", hdr("User-Agent", "app/"), DefaultClient},
		{"nothing", hdr(), DefaultClient},
		{"capped", hdr(HeaderClient, strings.Repeat("x", 100)), strings.Repeat("x", maxClientID)},
	} {
		require.Equal(t, tc.want, clientOf(tc.h), tc.name)
	}
}

func TestClientTableOverflowsIntoOther(t *testing.T) {
	t.Parallel()
	var tab clientTable
	for i := range MaxClients {
		tab.get("c" + strconv.Itoa(i)).calls.Add(1)
	}
	tab.get("one-too-many").calls.Add(1)
	tab.get("and-another").calls.Add(1)
	tab.get("c7").calls.Add(1)
	snap := tab.snapshot()
	require.Len(t, snap, MaxClients+1)
	require.EqualValues(t, 2, snap[OverflowClient].Calls)
	require.EqualValues(t, 2, snap["c7"].Calls)
	require.NotContains(t, snap, "one-too-many")
}

func TestPerClientCountersAndSeries(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	sim, srv := newSimServer(t, Config{Rate: 2, Burst: 2, Clock: clk})
	ctx := context.Background()
	input := &cip.ResendConfirmationCodeInput{ClientId: aws.String("c"), Username: aws.String("u")}
	sdk := func(app string) *cip.Client {
		return cip.New(cip.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), AppID: app,
			Retryer: aws.NopRetryer{}, HTTPClient: srv.Client(),
		})
	}
	a, b := sdk("proc-a"), sdk("proc-b")

	// Second 0: a, a pass (burst 2); b throttled; a raw call with no name throttled.
	_, err := a.ResendConfirmationCode(ctx, input)
	require.NoError(t, err)
	_, err = a.ResendConfirmationCode(ctx, input)
	require.NoError(t, err)
	_, err = b.ResendConfirmationCode(ctx, input)
	require.Error(t, err)
	resend(t, srv.Client(), srv.URL, "u")
	// Second 1: +2 tokens; b passes twice, a is throttled.
	clk.Advance(time.Second)
	_, err = b.ResendConfirmationCode(ctx, input)
	require.NoError(t, err)
	_, err = b.ResendConfirmationCode(ctx, input)
	require.NoError(t, err)
	_, err = a.ResendConfirmationCode(ctx, input)
	require.Error(t, err)

	st, err := FetchStats(ctx, srv.URL) // over the wire, as the bench reads it
	require.NoError(t, err)
	base := st.FirstCall.Unix()
	require.Equal(t, ClientStats{Calls: 3, Admitted: 2, Successes: 2, Throttled: 1,
		PerSecond: []SecondStats{{Unix: base, Successes: 2}, {Unix: base + 1, Throttled: 1}}}, st.PerClient["proc-a"])
	require.Equal(t, ClientStats{Calls: 3, Admitted: 2, Successes: 2, Throttled: 1,
		PerSecond: []SecondStats{{Unix: base, Throttled: 1}, {Unix: base + 1, Successes: 2}}}, st.PerClient["proc-b"])
	require.Equal(t, ClientStats{Calls: 1, Throttled: 1,
		PerSecond: []SecondStats{{Unix: base, Throttled: 1}}}, st.PerClient[DefaultClient])
	require.Len(t, st.PerClient, 3)

	// The clients add up to the totals, second by second.
	var calls, succ, thr int64
	for _, c := range st.PerClient {
		calls += c.Calls
		s, th := c.Between(base, base+2)
		succ += s
		thr += th
	}
	require.Equal(t, st.Calls, calls)
	require.Equal(t, st.Successes, succ)
	require.Equal(t, st.Throttled, thr)

	sim.Reset()
	require.Empty(t, sim.Stats().PerClient)
}

// The app id reaches the User-Agent through the SDK's own config loader, from the
// environment variable the bench sets per child process: the path the binary takes.
func TestAppIDFromEnvironment(t *testing.T) { // not parallel: Setenv
	dir := t.TempDir()
	t.Setenv("AWS_SDK_UA_APP_ID", "from-env")
	t.Setenv("AWS_CONFIG_FILE", dir+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	sim, srv := newSimServer(t, Config{})
	ctx := context.Background()
	ac, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"))
	require.NoError(t, err)
	require.Equal(t, "from-env", ac.AppID)
	cl := cip.NewFromConfig(ac, func(o *cip.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.Retryer = aws.NopRetryer{}
	})
	_, err = cl.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String("c"), Username: aws.String("u")})
	require.NoError(t, err)
	require.EqualValues(t, 1, sim.Stats().PerClient["from-env"].Successes)
}

func TestJudgedSeconds(t *testing.T) {
	t.Parallel()
	st := Stats{PerSecond: []SecondStats{{Unix: 100}, {Unix: 101}, {Unix: 102}, {Unix: 103}}}
	from, to, ok := st.JudgedSeconds(1500 * time.Millisecond)
	require.True(t, ok)
	require.Equal(t, [2]int64{102, 103}, [2]int64{from, to})
	_, _, ok = st.JudgedSeconds(3 * time.Second)
	require.False(t, ok)
	_, _, ok = Stats{}.JudgedSeconds(0)
	require.False(t, ok)
}
