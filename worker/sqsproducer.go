package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/sethvargo/go-retry"
)

// SQSSendAPI is the one SQS call the producer (cognito-resend enqueue) makes.
type SQSSendAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ SQSSendAPI = (*sqs.Client)(nil)

// maxBatchPayload keeps a SendMessageBatch well under SQS's request size limit.
const maxBatchPayload = 256 << 10

// EnqueueConfig configures Enqueue.
type EnqueueConfig struct {
	API      SQSSendAPI
	QueueURL string
	// MaxAttempts bounds the sends of one batch entry that fails transiently (default 5).
	MaxAttempts int
	// BackoffBase is the first delay between attempts, doubled each time (default 200 ms).
	BackoffBase time.Duration
	Logger      *slog.Logger
}

// EnqueueSummary counts what Enqueue did with the input rows.
type EnqueueSummary struct {
	Enqueued  int
	Invalid   int // rows that are not a valid username (never sent)
	Duplicate int // usernames seen earlier in the input (case-insensitively)
	Failed    int // rows SQS did not take after the retries
}

// UserKey is the hex SHA-256 of the lowercase username: a FIFO queue's
// MessageDeduplicationId (a re-run within SQS's 5-minute window adds nothing) and
// MessageGroupId (one group a user, so users don't wait for each other).
func UserKey(username string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(username)))
	return hex.EncodeToString(sum[:])
}

// Enqueue reads jobs from src (validated, deduped with seen) and sends each one as a
// JSON message body to the queue, 10 a SendMessageBatch call; entries that fail
// transiently are retried with backoff. It returns when src ends, ctx ends (after
// sending what it already read) or a batch fails completely after its retries.
func Enqueue(ctx context.Context, cfg EnqueueConfig, src Source, seen *SeenSet) (EnqueueSummary, error) {
	var sum EnqueueSummary
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 200 * time.Millisecond
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if seen == nil {
		seen = NewSeenSet()
	}
	fifo := strings.HasSuffix(cfg.QueueURL, ".fifo")
	var batch []sqstypes.SendMessageBatchRequestEntry
	size := 0
	flush := func(ctx context.Context) error {
		if len(batch) == 0 {
			return nil
		}
		ok, err := sendBatch(ctx, cfg, log, batch)
		sum.Enqueued += ok
		sum.Failed += len(batch) - ok
		batch, size = batch[:0], 0
		return err
	}
	for {
		job, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// Stopped: what was read is sent, not dropped.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			ferr := flush(fctx)
			cancel()
			return sum, errors.Join(err, ferr)
		}
		switch {
		case job.Invalid != "":
			sum.Invalid++
			log.Warn("skipping invalid row", "source_ref", job.SourceRef, "username", job.Username, "reason", job.Invalid)
			continue
		case !seen.Add(job.Username):
			sum.Duplicate++
			log.Debug("skipping duplicate", "source_ref", job.SourceRef, "username", job.Username)
			continue
		}
		body, err := EncodeMessageBody(job)
		if err != nil {
			return sum, err
		}
		if size+len(body) > maxBatchPayload {
			if err := flush(ctx); err != nil {
				return sum, err
			}
		}
		e := sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(len(batch))), MessageBody: aws.String(body)}
		if fifo {
			k := UserKey(job.Username)
			e.MessageGroupId, e.MessageDeduplicationId = aws.String(k), aws.String(k)
		}
		batch = append(batch, e)
		size += len(body)
		if len(batch) == sqsBatchMax {
			if err := flush(ctx); err != nil {
				return sum, err
			}
		}
	}
	return sum, flush(ctx)
}

// sendBatch sends entries, retrying the whole call and transiently failed entries up to
// MaxAttempts, and returns how many SQS took.
func sendBatch(ctx context.Context, cfg EnqueueConfig, log *slog.Logger, entries []sqstypes.SendMessageBatchRequestEntry) (int, error) {
	pending := append([]sqstypes.SendMessageBatchRequestEntry(nil), entries...)
	sent, attempt := 0, 0
	var callErr error // the last whole-call failure
	// go-retry is the one retry layer: a failed call, or failed entries that were not
	// the sender's fault, go again (only the failed entries) with backoff.
	err := retry.Do(ctx, newBackoff(cfg.MaxAttempts, cfg.BackoffBase, 10*time.Second), func(ctx context.Context) error {
		attempt++
		out, err := cfg.API.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(cfg.QueueURL), Entries: pending})
		if err != nil {
			callErr = err
			if attempt < cfg.MaxAttempts {
				log.Warn("SendMessageBatch failed, retrying", "error", err, "attempt", attempt)
			}
			return retry.RetryableError(err)
		}
		callErr = nil
		sent += len(out.Successful)
		byID := make(map[string]sqstypes.SendMessageBatchRequestEntry, len(pending))
		for _, e := range pending {
			byID[aws.ToString(e.Id)] = e
		}
		var again []sqstypes.SendMessageBatchRequestEntry
		for _, f := range out.Failed {
			e, ok := byID[aws.ToString(f.Id)]
			if !ok {
				continue
			}
			if f.SenderFault || attempt >= cfg.MaxAttempts {
				log.Error("message not enqueued", "code", aws.ToString(f.Code), "error", aws.ToString(f.Message),
					"sender_fault", f.SenderFault, "attempts", attempt)
				continue
			}
			again = append(again, e)
		}
		pending = again
		if len(pending) > 0 {
			return retry.RetryableError(errEntriesFailed)
		}
		return nil
	})
	switch {
	case err == nil:
		return sent, nil
	case ctx.Err() != nil:
		return sent, errors.Join(ctx.Err(), callErr)
	case callErr != nil:
		return sent, fmt.Errorf("SendMessageBatch: %w", callErr)
	}
	return sent, nil // entries that failed for good were logged; the caller counts them
}

var errEntriesFailed = errors.New("some batch entries failed")
