package lambdasource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// SettleMarginDefault is the time kept at the end of an invocation for what follows the
// last call: the outcomes written to the ledger table, claims given back, the log lines
// and the response. Calls still in flight then are aborted (the hard stop).
const SettleMarginDefault = 3 * time.Second

// ErrSystemic is the error of a batch whose every message failed for a systemic reason
// (retries spent, Cognito unreachable, the deadline, a configuration or ledger error): the
// ESM retries the whole batch and backs off.
var ErrSystemic = errors.New("every message of the batch failed for a systemic reason")

// Handler is the Lambda function: one engine run per invocation over its Batch, inside
// the invocation's deadline.
type Handler struct {
	// Run runs the pipeline over src until it ends or stop (no new calls; calls in
	// flight finish) or kill (abort them). Its error says why it stopped early.
	Run func(stop, kill context.Context, src job.Source) error
	// CallTimeout is one Cognito call's timeout: no call starts later than CallTimeout +
	// SettleMargin before the deadline, so that it ends before the hard stop.
	CallTimeout time.Duration
	// SettleMargin: zero is SettleMarginDefault.
	SettleMargin time.Duration
	Config       Config
	// FunctionName is the metrics' FunctionName dimension (AWS_LAMBDA_FUNCTION_NAME).
	FunctionName string
	Logger       *slog.Logger
	Clock        clock.Clock
	// SQS puts limit_exceeded messages off until their due time (Config.LimitExceededDelay);
	// nil: they come back after the queue's visibility timeout.
	SQS VisibilityAPI

	mu   sync.Mutex
	urls map[string]string // event source ARN → queue URL
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// Handle is the function's handler: events.SQSEvent in, the batch item failures out.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	clk := clock.Must(h.Clock, "lambdasource.Handler")
	log := h.logger()
	margin := h.SettleMargin
	if margin <= 0 {
		margin = SettleMarginDefault
	}
	b := New(ev, h.Config)
	started := clk.Now()
	var runErr error
	killAfter, stopAfter := time.Duration(1<<62), time.Duration(1<<62)
	if deadline, ok := ctx.Deadline(); ok {
		killAfter = deadline.Sub(started) - margin
		stopAfter = killAfter - h.CallTimeout
	}
	if stopAfter <= 0 {
		runErr = fmt.Errorf("the invocation has %s left, less than --call-timeout (%s) + %s: no call started; "+
			"raise the function's timeout", killAfter+margin, h.CallTimeout, margin)
	} else {
		// The deadline is the runtime's (wall clock): the guard's timers run on the clock.
		stop, cancelStop := clock.WithTimeout(ctx, clk, stopAfter)
		kill, cancelKill := clock.WithTimeout(context.WithoutCancel(ctx), clk, killAfter)
		runErr = h.Run(stop, kill, b)
		cancelStop()
		cancelKill()
	}
	items := b.Items()
	resp := Response(items)
	visible := h.putOff(ctx, items, clk.Now(), clk.Since(started))
	counts := map[string]int{}
	putOff := 0
	for i := range items {
		it := &items[i]
		if s, ok := visible[it.MessageID]; ok {
			it.VisibleIn = s
			putOff++
		}
		logItem(log, *it)
		if it.HasRow {
			counts[string(it.Row.Status)]++
		}
	}
	all := AllSystemic(items)
	emitMetrics(log, h.FunctionName, clk.Now(), items, len(resp.BatchItemFailures), all)
	attrs := []any{"messages", len(items), "failures", len(resp.BatchItemFailures), "fifo", b.FIFO(),
		"took", clk.Since(started).Round(time.Millisecond).String()}
	for _, st := range job.Statuses {
		if counts[string(st)] > 0 {
			attrs = append(attrs, string(st), counts[string(st)])
		}
	}
	if putOff > 0 {
		attrs = append(attrs, "put_off", putOff)
	}
	if runErr != nil {
		attrs = append(attrs, "stopped", runErr.Error())
	}
	switch {
	case all:
		log.Error("batch failed: every message for a systemic reason; the whole batch comes back and the event source backs off", attrs...)
		if runErr != nil {
			return events.SQSEventResponse{}, fmt.Errorf("%w: %w", ErrSystemic, runErr)
		}
		return events.SQSEventResponse{}, ErrSystemic
	case len(resp.BatchItemFailures) > 0:
		log.Warn("batch done with item failures", attrs...)
	default:
		log.Info("batch done", attrs...)
	}
	return resp, nil
}

// logItem is a message's line: the report's columns (records.Columns), its message id,
// and the queue's outcome.
func logItem(log *slog.Logger, it Item) {
	r := it.Row
	item := "ok"
	if it.Failed() {
		item = "failure"
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	username := r.Username
	if !it.HasRow {
		username = it.Username
	}
	log.Info("message", "message_id", it.MessageID, "batch_item", item, "reason", string(it.Reason),
		"receive_count", it.ReceiveCount, "visible_in", it.VisibleIn,
		"username", username, "status", string(r.Status), "attempts", r.Attempts, "error_code", r.ErrorCode,
		"error_message", r.ErrorMessage, "delivery_medium", r.DeliveryMedium, "destination", r.Destination,
		"attribute_name", r.AttributeName, "request_id", r.RequestID, "source_ref", it.MessageID,
		"started_at", ts(r.StartedAt), "finished_at", ts(r.FinishedAt), "body", it.Body)
}
