package lambdaesm

import (
	"context"
	"encoding/json"
	"errors"

	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Config is the function and its event source mapping.
type Config struct {
	SQS      *sqs.Client
	QueueURL string
	QueueARN string // the records' eventSourceARN
	// Command builds the process of one execution environment; the ESM adds
	// AWS_LAMBDA_RUNTIME_API and AWS_LAMBDA_FUNCTION_NAME to its Env.
	Command      func(env int) *exec.Cmd
	FunctionName string
	// Timeout is the function's timeout: each invocation's deadline.
	Timeout time.Duration
	// BatchSize (1..10000; default 10) and Window (MaximumBatchingWindowInSeconds).
	BatchSize int
	Window    time.Duration
	// MaxConcurrency is ScalingConfig.MaximumConcurrency: environments at once.
	MaxConcurrency int
	// InitTimeout bounds a cold start (process start to its first /next); default 10 s.
	InitTimeout time.Duration
	// Backoff is the pause of an environment's polling after a whole-batch failure.
	Backoff time.Duration
}

// Stats are what the ESM saw.
type Stats struct {
	Invocations     int
	Responses       int // answered with a valid response
	ItemFailures    int // messages listed in batchItemFailures
	WholeFailures   int // error, crash, timeout, invalid response: the whole batch came back
	Errors          int // /error
	Timeouts        int
	Crashes         int // the process died during an invocation
	InvalidResponse int
	Deleted         int
	ColdStarts      []time.Duration // process start to its first /next
	InitErrors      []string        // the bodies of /runtime/init/error
	Messages        int             // messages delivered (with redeliveries)
}

// ESM is a running event source mapping with its environments.
type ESM struct {
	cfg  Config
	envs []*Env
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu    sync.Mutex
	stats Stats
}

// Start starts cfg.MaxConcurrency environments and their pollers.
func Start(ctx context.Context, cfg Config) (*ESM, error) {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 10
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = 2
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = 10 * time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.FunctionName == "" {
		cfg.FunctionName = "cognito-resend"
	}
	e := &ESM{cfg: cfg}
	e.ctx, e.stop = context.WithCancel(ctx)
	for i := range cfg.MaxConcurrency {
		env, err := newEnv(e, i)
		if err != nil {
			e.Close()
			return nil, err
		}
		e.envs = append(e.envs, env)
	}
	for _, env := range e.envs {
		e.wg.Go(env.loop)
	}
	return e, nil
}

// Env is execution environment i.
func (e *ESM) Env(i int) *Env { return e.envs[i] }

// Stats is a copy of the counts so far.
func (e *ESM) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.ColdStarts = append([]time.Duration(nil), s.ColdStarts...)
	s.InitErrors = append([]string(nil), s.InitErrors...)
	return s
}

func (e *ESM) count(f func(*Stats)) {
	e.mu.Lock()
	f(&e.stats)
	e.mu.Unlock()
}

// Close stops polling and kills every environment's process.
func (e *ESM) Close() {
	e.stop()
	for _, env := range e.envs {
		env.close()
	}
	e.wg.Wait()
}

// receive is one batch: up to BatchSize messages, gathered within Window once the first
// has come (long polls of up to 1 s, so a Close is prompt).
func (e *ESM) receive(ctx context.Context) []sqstypes.Message {
	var batch []sqstypes.Message
	var windowEnd time.Time
	for len(batch) < e.cfg.BatchSize && ctx.Err() == nil {
		wait := int32(1)
		if len(batch) > 0 {
			left := time.Until(windowEnd)
			if left <= 0 {
				break
			}
			wait = int32(min(max(left/time.Second, 0), 1))
		}
		out, err := e.cfg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(e.cfg.QueueURL), MaxNumberOfMessages: int32(min(10, e.cfg.BatchSize-len(batch))),
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			if ctx.Err() == nil {
				sleep(ctx, 200*time.Millisecond)
			}
			continue
		}
		if len(out.Messages) > 0 && len(batch) == 0 {
			windowEnd = time.Now().Add(e.cfg.Window)
		}
		batch = append(batch, out.Messages...)
		if len(batch) > 0 && (e.cfg.Window <= 0 || len(out.Messages) == 0) {
			break
		}
	}
	return batch
}

// event is the invocation payload of a batch, as Lambda sends it.
func (e *ESM) event(batch []sqstypes.Message) []byte {
	ev := events.SQSEvent{}
	for _, m := range batch {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: m.Attributes, EventSource: "aws:sqs",
			EventSourceARN: e.cfg.QueueARN, AWSRegion: "us-east-1",
		})
	}
	b, _ := json.Marshal(ev)
	return b
}

// settle applies the answer of a batch: the messages to delete (nil: none, the whole
// batch comes back).
func (e *ESM) settle(batch []sqstypes.Message, body []byte) (deleted int, whole bool) {
	ids := map[string]bool{}
	for _, m := range batch {
		ids[aws.ToString(m.MessageId)] = true
	}
	failed, ok := parseResponse(body, ids)
	if !ok {
		e.count(func(s *Stats) { s.InvalidResponse++ })
		return 0, true
	}
	e.count(func(s *Stats) { s.ItemFailures += len(failed) })
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range batch {
		if !failed[aws.ToString(m.MessageId)] {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	for len(entries) > 0 {
		n := min(10, len(entries))
		out, err := e.cfg.SQS.DeleteMessageBatch(context.WithoutCancel(e.ctx), &sqs.DeleteMessageBatchInput{
			QueueUrl: aws.String(e.cfg.QueueURL), Entries: entries[:n]})
		if err == nil {
			deleted += len(out.Successful)
		}
		entries = entries[n:]
	}
	return deleted, false
}

// parseResponse reads a function's answer under ReportBatchItemFailures: the failed ids,
// or ok=false when the whole batch fails (not JSON of the shape, an empty or unknown
// itemIdentifier). An empty body, null, {} and an empty or null list: nothing failed.
func parseResponse(body []byte, ids map[string]bool) (failed map[string]bool, ok bool) {
	failed = map[string]bool{}
	s := strings.TrimSpace(string(body))
	if s == "" || s == "null" {
		return failed, true
	}
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, false
	}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == nil || *f.ItemIdentifier == "" || !ids[*f.ItemIdentifier] {
			return nil, false
		}
		failed[*f.ItemIdentifier] = true
	}
	return failed, true
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// listen is an environment's Runtime API listener.
func listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

var errExited = errors.New("runtime process exited")

func signal(p *os.Process, sig os.Signal) error {
	if p == nil {
		return errors.New("no process")
	}
	return p.Signal(sig)
}
