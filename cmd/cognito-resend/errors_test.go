package main

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// --sqs-queue-url is a URL for run as for enqueue: one check, in config (a queue name is
// a usage error before any call).
func TestRunQueueURLIsAURL(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	env := append(baseEnv("http://127.0.0.1:1"), "COGNITO_CLIENT_ID=c")
	for _, args := range [][]string{
		{"run", "--sqs-queue-url", "my-queue"},
		{"enqueue", "--csv", "-", "--sqs-queue-url", "my-queue"},
	} {
		res := runBin(t, t.TempDir(), env, "u\n", args...)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, `cognito-resend: --sqs-queue-url: must be a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), got "my-queue"`)
	}
}

// SQS refusing the producer (no sqs:SendMessage) is an answer: enqueue sends once, says
// why on stderr (the one printer of a command's error) and exits 1; it does not retry.
func TestEnqueueAccessDeniedIsNotRetried(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	var calls atomic.Int64
	sqs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("x-amzn-query-error", "AccessDenied;Sender")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"__type":"com.amazon.coral.service#AccessDeniedException","message":"not authorized to perform sqs:SendMessage"}`))
	}))
	t.Cleanup(sqs.Close)
	env := append(append(baseEnv("http://127.0.0.1:1"), dummyCreds...), "AWS_ENDPOINT_URL_SQS="+sqs.URL)
	res := runBin(t, t.TempDir(), env, "username\nann\nbob\n", "enqueue", "--csv", "-", "--sqs-queue-url", sqs.URL+"/000000000000/q")
	require.Equal(t, 1, res.code, res.stderr)
	require.Contains(t, res.stdout, "enqueued=0 skipped_invalid=0 skipped_duplicate=0 failed=2")
	require.Contains(t, res.stderr, "cognito-resend: enqueue stopped: SendMessageBatch: ")
	require.Contains(t, res.stderr, "AccessDenied")
	require.EqualValues(t, 1, calls.Load(), "an answer is not retried")
}
