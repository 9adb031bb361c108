package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/stretchr/testify/require"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	set, err := parseArgs([]string{
		"--preset", "flaky", "--rate", "7", "--p5xx", "0", "--latency", "5ms",
		"--inject", "alice=LimitExceededException:Attempt limit exceeded:2",
		"--inject", "bob=UserNotFoundException:gone",
		"--inject-all", "NotAuthorizedException:disabled",
		"--seed", "9", "--limit-all-targets", "--upstream", "http://127.0.0.1:9229",
	}, io.Discard)
	require.NoError(t, err)
	cfg := set.cfg
	require.Equal(t, "127.0.0.1:0", set.addr)
	require.Nil(t, set.live, "no live client without --live-rate")
	require.Equal(t, 7.0, cfg.Rate)
	require.Equal(t, 50, cfg.Burst, "from the preset")
	require.Equal(t, 0.0, cfg.P5xx, "explicit flag overrides the preset")
	require.Equal(t, 0.02, cfg.P503, "from the preset")
	require.Equal(t, 5*time.Millisecond, cfg.LatencyFixed)
	require.Equal(t, quotasim.InjectedError{Type: "LimitExceededException", Message: "Attempt limit exceeded", Times: 2}, cfg.Inject["alice"])
	require.Equal(t, quotasim.InjectedError{Type: "UserNotFoundException", Message: "gone"}, cfg.Inject["bob"])
	require.Equal(t, &quotasim.InjectedError{Type: "NotAuthorizedException", Message: "disabled"}, cfg.InjectAll)
	require.EqualValues(t, 9, cfg.Seed)
	require.True(t, cfg.LimitAllTargets)
	require.Equal(t, "http://127.0.0.1:9229", cfg.Upstream)

	for _, bad := range [][]string{
		{"--listen", "0.0.0.0:8080"},
		{"--listen", ":8080"},
		{"--preset", "nope"},
		{"--inject", "nouser"},
		{"--p5xx", "2"},
		{"extra"},
		{"--live-rate", "-1"},
		{"--live-rate", "5", "--live-duration", "0s"},
	} {
		_, err := parseArgs(bad, io.Discard)
		require.Error(t, err, "%q", bad)
	}
}

func TestRunPrintsURLAndStops(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--rate", "1", "--burst", "1"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "listening http://127.0.0.1:"), line)
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening "))

	resp, err := http.Get(url + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	cancel()
	require.NoError(t, <-done)
}

func TestParseLiveArgs(t *testing.T) {
	t.Parallel()
	set, err := parseArgs([]string{"--rate", "20", "--live-rate", "5", "--live-seed", "3", "--live-duration", "1m", "--live-max-calls", "400"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, &quotasim.LiveConfig{Rate: 5, Seed: 3, Client: quotasim.LiveClient, Duration: time.Minute, MaxCalls: 400}, set.live)
}

// The live client runs against the server itself and shows up as its own client.
func TestRunWithLiveClient(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--live-rate", "1000", "--live-max-calls", "10", "--live-duration", "1m"}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening "))
	// Read the counters until the ten calls are in (bounded: the calls take
	// milliseconds; the loop gives up after 10 s; each read is a round trip).
	var st quotasim.Stats
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		st, err = quotasim.FetchStats(ctx, url)
		require.NoError(t, err)
		if st.PerClient[quotasim.LiveClient].Successes == 10 {
			break
		}
	}
	require.EqualValues(t, 10, st.PerClient[quotasim.LiveClient].Calls)
	require.EqualValues(t, 10, st.PerClient[quotasim.LiveClient].Successes)
	cancel()
	require.NoError(t, <-done)
	require.Contains(t, stderr.String(), "live client: calls=10 successes=10 throttled=0")
}
