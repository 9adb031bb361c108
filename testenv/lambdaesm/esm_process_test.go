package lambdaesm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
)

// helperEnv makes the test binary a scripted function (TestMain): it speaks the Runtime
// API itself, so that it can answer what aws-lambda-go never would (invalid JSON).
const helperEnv = "LAMBDAESM_TEST_FUNCTION"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		scriptedFunction()
		return
	}
	os.Exit(m.Run())
}

// scriptedFunction answers each one-message batch by its body, on the message's first
// receive: ok (success), partial (the message listed), error (/error), badjson, unknown
// (an itemIdentifier not in the batch), empty (an empty itemIdentifier), timeout (no
// answer), crash (exit 1). Every later receive succeeds. Each success is written to
// stdout as "done <body> <receive count>".
func scriptedFunction() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/"
	for {
		resp, err := http.Get(api + "invocation/next")
		if err != nil {
			os.Exit(2)
		}
		payload, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		deadline, _ := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
		var ev events.SQSEvent
		_ = json.Unmarshal(payload, &ev)
		m := ev.Records[0]
		n, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
		answer, path := `{"batchItemFailures":[]}`, "/response"
		if n == 1 {
			switch m.Body {
			case "partial":
				answer = `{"batchItemFailures":[{"itemIdentifier":"` + m.MessageId + `"}]}`
			case "error":
				answer, path = `{"errorType":"Boom","errorMessage":"boom"}`, "/error"
			case "badjson":
				answer = `{"batchItemFailures":`
			case "unknown":
				answer = `{"batchItemFailures":[{"itemIdentifier":"no-such-message"}]}`
			case "empty":
				answer = `{"batchItemFailures":[{"itemIdentifier":""}]}`
			case "timeout":
				time.Sleep(time.Until(time.UnixMilli(deadline)) + 10*time.Second)
			case "crash":
				os.Exit(1)
			}
		}
		if answer == `{"batchItemFailures":[]}` {
			fmt.Printf("done %s %d\n", m.Body, n)
		}
		r, err := http.Post(api+"invocation/"+id+path, "application/json", strings.NewReader(answer))
		if err == nil {
			r.Body.Close()
		}
	}
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The ESM against fauxqs and a scripted function: a success deletes the message at its
// first receive; a listed item, a function error, invalid JSON, an unknown or empty
// itemIdentifier, a timeout and a crash each bring the message back once (receive 2),
// after the visibility timeout; the timed-out and crashed environments start again.
func TestESMAppliesReportBatchItemFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts fauxqs")
	}
	fq := emu.SQS(t)
	c := emu.NewSQSClient(fq.Endpoint)
	q, _, err := emu.CreateQueueWithDLQ(t.Context(), c, "esm", false, 10)
	require.NoError(t, err)
	_, err = c.SetQueueAttributes(t.Context(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameVisibilityTimeout): "3"}})
	require.NoError(t, err)
	bodies := []string{"ok", "partial", "error", "badjson", "unknown", "empty", "timeout", "crash"}
	for _, b := range bodies {
		_, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String(b)})
		require.NoError(t, err)
	}
	self, err := os.Executable()
	require.NoError(t, err)
	var out lockedBuf
	e, err := Start(t.Context(), Config{SQS: c, QueueURL: q, QueueARN: "arn:aws:sqs:REGION:ACCOUNT_ID:esm",
		Timeout: 2 * time.Second, BatchSize: 1, MaxConcurrency: 3, Backoff: 100 * time.Millisecond,
		Command: func(int) *exec.Cmd {
			cmd := exec.Command(self)
			cmd.Env, cmd.Stdout = append(os.Environ(), helperEnv+"=1"), &out
			return cmd
		}})
	require.NoError(t, err)
	t.Cleanup(e.Close)

	want := map[string]string{}
	for _, b := range bodies {
		want[b] = "2"
	}
	want["ok"] = "1"
	require.Eventually(t, func() bool { return strings.Count(out.String(), "done ") >= len(bodies) }, time.Minute,
		50*time.Millisecond, "%s\n%+v", out.String(), e.Stats())
	got := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(line)
		got[f[1]] = f[2]
	}
	require.Equal(t, want, got, "the receive at which each message succeeded")
	require.Eventually(t, func() bool {
		v, nv, err := emu.QueueCounts(t.Context(), c, q)
		return err == nil && v+nv == 0
	}, 10*time.Second, 50*time.Millisecond, "every message deleted")
	st := e.Stats()
	require.Equal(t, 1, st.ItemFailures, "%+v", st)
	require.Equal(t, 1, st.Errors, "%+v", st)
	require.Equal(t, 3, st.InvalidResponse, "%+v", st)
	require.Equal(t, 1, st.Timeouts, "%+v", st)
	require.Equal(t, 1, st.Crashes, "%+v", st)
	require.Equal(t, 6, st.WholeFailures, "%+v", st)
	require.Equal(t, len(bodies), st.Deleted, "%+v", st)
}
