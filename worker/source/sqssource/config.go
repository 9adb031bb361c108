package sqssource

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// SQSAPI is every SQS call the queue consumer makes (the deploy IAM policy is derived
// from these method names).
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	// SendMessage moves a poison message to the dead-letter queue.
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	// GetQueueAttributes finds the dead-letter queue (RedrivePolicy) at start.
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// SQS's own limits.
const (
	// MaxVisibility is the longest a message can stay invisible since its receipt.
	MaxVisibility = 12 * time.Hour
	// BatchMax is the most entries a batch call takes and messages a receive returns.
	BatchMax = 10
	// MaxWaitTimeSeconds is the longest long poll.
	MaxWaitTimeSeconds = 20
)

// Defaults of the queue-mode flags and of Config's zero fields.
const (
	// WaitTimeSecondsDefault is --wait-time-seconds. Config.WaitTimeSeconds has no
	// default: zero is short polling.
	WaitTimeSecondsDefault    = MaxWaitTimeSeconds
	VisibilityTimeoutDefault  = 60 * time.Second
	EmptyPollsDefault         = 3
	RetryDelayDefault         = 30 * time.Second
	LimitExceededDelayDefault = job.LimitWindow // Cognito's per-user window
	// MaxInFlightPerWorker: with --max-in-flight 0 the source holds this many messages
	// per engine worker (one in its call, one ready behind it).
	MaxInFlightPerWorker = 2
	FlushIntervalDefault = time.Second
	EntryAttemptsDefault = 4
	CallTimeoutDefault   = 20 * time.Second
)

// Config configures a Source. Zero fields get the XxxDefault values.
type Config struct {
	API      SQSAPI
	QueueURL string
	// WaitTimeSeconds is the long-poll wait, 0..20 (0: short polling).
	WaitTimeSeconds int32
	// VisibilityTimeout is what a received message gets; the heartbeat extends it while
	// the message is held (whole seconds; at least 1 s).
	VisibilityTimeout time.Duration
	// MaxInFlight bounds messages received and not yet settled at the queue; zero means
	// MaxInFlightPerWorker × Workers.
	MaxInFlight int
	Workers     int
	// ExitWhenEmpty: Next returns io.EOF after EmptyPolls consecutive empty receives
	// with nothing in flight.
	ExitWhenEmpty bool
	EmptyPolls    int
	// RetryDelay is the visibility after exhausted retries, doubled per receive.
	RetryDelay time.Duration
	// LimitExceededDelay is the visibility after a per-user limit_exceeded.
	LimitExceededDelay time.Duration
	// FlushInterval bounds how long a delete or visibility change waits for a full
	// batch.
	FlushInterval time.Duration
	// HeartbeatInterval is how often held messages are checked for extension (default
	// VisibilityTimeout/6); a message is extended once less than a third of
	// VisibilityTimeout remains.
	HeartbeatInterval time.Duration
	// EntryAttempts bounds the attempts of an SQS call made once (GetQueueAttributes,
	// SendMessage to the DLQ) and of a batch entry that fails transiently.
	EntryAttempts int
	// CallTimeout bounds each SQS call other than ReceiveMessage.
	CallTimeout time.Duration
	// PausedAtStart, when set, starts the source paused for this reason: nothing is
	// received before Resume (queue mode waits for Cognito's first answer).
	PausedAtStart string
	// IdleAtStart, when set, starts the source idle for this reason (Idle): nothing is
	// received before Wake (a queue worker under --daily-budget first reads whether its
	// window is already spent: a restart during the pause must not receive, each receive
	// counts towards the dead-letter queue).
	IdleAtStart string
	// QueueGoneAfter: Next fails with ErrQueueGone once every receive for this long
	// answered that the queue does not exist.
	QueueGoneAfter time.Duration
	Logger         *slog.Logger
	Metrics        Recorder // nil: nothing recorded
	Clock          clock.Clock
}

func (c *Config) defaults() {
	if c.VisibilityTimeout <= 0 {
		c.VisibilityTimeout = VisibilityTimeoutDefault
	}
	c.VisibilityTimeout = max(c.VisibilityTimeout, time.Second)
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = MaxInFlightPerWorker * max(c.Workers, 1)
	}
	if c.EmptyPolls <= 0 {
		c.EmptyPolls = EmptyPollsDefault
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = RetryDelayDefault
	}
	if c.LimitExceededDelay <= 0 {
		c.LimitExceededDelay = LimitExceededDelayDefault
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = FlushIntervalDefault
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = max(c.VisibilityTimeout/6, 100*time.Millisecond)
	}
	if c.EntryAttempts <= 0 {
		c.EntryAttempts = EntryAttemptsDefault
	}
	if c.QueueGoneAfter <= 0 {
		c.QueueGoneAfter = QueueGoneAfterDefault
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = CallTimeoutDefault
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = noRecorder{}
	}
	c.Clock = clock.Must(c.Clock, "sqssource.Config")
}
