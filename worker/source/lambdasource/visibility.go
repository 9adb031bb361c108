package lambdasource

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/source/sqssource"
)

// VisibilityAPI is what puts a limit_exceeded message off until its due time: the
// queue's URL (once per environment and queue) and its messages' visibility.
type VisibilityAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// batchingWindowMax is the ESM's longest MaximumBatchingWindowInSeconds: a message of the
// batch may have been received that long before the invocation started (SQS's 12 h bound
// on its visibility counts from its receipt).
const batchingWindowMax = 5 * time.Minute

// visibilityTimeout bounds the ChangeMessageVisibilityBatch calls, within the settle margin.
const visibilityTimeout = 2 * time.Second

// putOff sets the visibility of the batch's failures that must wait, by the queue
// worker's rules (bounded by SQS's 12 h: sqssource.VisibilitySeconds): limit_exceeded for
// --limit-exceeded-delay, so that it comes back once Cognito's hour has passed; a spent
// daily budget (or Cognito's daily cap) until the next window — instead of every
// visibility timeout, each receive counting toward maxReceiveCount. It returns the
// seconds set per message id; a message it could not put off comes back after the
// visibility timeout, as before (logged).
func (h *Handler) putOff(ctx context.Context, items []Item, now time.Time, sinceStart time.Duration) map[string]int32 {
	if h.SQS == nil {
		return nil
	}
	var due []Item
	wait := map[string]time.Duration{}
	for _, it := range items {
		if !it.Failed() || it.receiptHandle == "" {
			continue
		}
		switch {
		case it.Reason == ReasonLimit && h.Config.LimitExceededDelay > 0:
			wait[it.MessageID] = h.Config.LimitExceededDelay
		case it.Reason == ReasonSpent && it.next.After(now):
			wait[it.MessageID] = it.next.Sub(now)
		default:
			continue
		}
		due = append(due, it)
	}
	if len(due) == 0 {
		return nil
	}
	ctx, cancel := clock.WithTimeout(context.WithoutCancel(ctx), clock.Must(h.Clock, "lambdasource.Handler"), visibilityTimeout)
	defer cancel()
	set := map[string]int32{}
	url, region, err := h.queueURL(ctx, due[0].eventSourceARN)
	for len(due) > 0 && err == nil {
		n := min(10, len(due))
		entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, n)
		secs := make([]int32, n)
		for i, it := range due[:n] {
			secs[i] = sqssource.VisibilitySeconds(wait[it.MessageID], sinceStart+batchingWindowMax)
			entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
				ReceiptHandle: aws.String(it.receiptHandle), VisibilityTimeout: secs[i]}
		}
		var out *sqs.ChangeMessageVisibilityBatchOutput
		out, err = h.SQS.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: entries}, inRegion(region))
		if err != nil {
			break
		}
		for _, ok := range out.Successful {
			if i, e := strconv.Atoi(aws.ToString(ok.Id)); e == nil && i < n {
				set[due[i].MessageID] = secs[i]
			}
		}
		for _, f := range out.Failed {
			if i, e := strconv.Atoi(aws.ToString(f.Id)); e == nil && i < n {
				h.logger().Warn("could not put a message off: it comes back after the queue's visibility timeout",
					"message_id", due[i].MessageID, "error_code", aws.ToString(f.Code), "error", aws.ToString(f.Message))
			}
		}
		due = due[n:]
	}
	if err != nil {
		h.logger().Warn("could not put messages off (sqs:GetQueueUrl, sqs:ChangeMessageVisibility): they come back after the queue's visibility timeout",
			"messages", len(due), "error", err.Error())
	}
	return set
}

// queueURL is the URL of the queue of an event source ARN
// (arn:PARTITION:sqs:REGION:ACCOUNT:NAME), asked once per environment, and its region.
func (h *Handler) queueURL(ctx context.Context, arn string) (url, region string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sqs" || parts[5] == "" {
		return "", "", fmt.Errorf("event source %q is not an SQS queue ARN", arn)
	}
	region = parts[3]
	h.mu.Lock()
	url = h.urls[arn]
	h.mu.Unlock()
	if url != "" {
		return url, region, nil
	}
	out, err := h.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5]),
		QueueOwnerAWSAccountId: aws.String(parts[4])}, inRegion(region))
	if err != nil {
		return "", "", err
	}
	url = aws.ToString(out.QueueUrl)
	h.mu.Lock()
	if h.urls == nil {
		h.urls = map[string]string{}
	}
	h.urls[arn] = url
	h.mu.Unlock()
	return url, region, nil
}

// inRegion sends a call to the queue's region (it may differ from the pool's).
func inRegion(region string) func(*sqs.Options) {
	return func(o *sqs.Options) {
		if region != "" {
			o.Region = region
		}
	}
}
