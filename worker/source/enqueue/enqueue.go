package enqueue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/awserr"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/source/sqssource"
)

// SQSSendAPI is the one SQS call the producer (cognito-resend enqueue) makes.
type SQSSendAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ SQSSendAPI = (*sqs.Client)(nil)

// RetryDefault is Config.Retry when it has no attempts: the schedule of a batch entry
// that fails transiently.
var RetryDefault = pacing.Policy{Attempts: 5, Base: 200 * time.Millisecond, Max: 10 * time.Second}

// maxBatchPayload keeps a SendMessageBatch well under SQS's request size limit.
const maxBatchPayload = 256 << 10

// stopFlushTimeout bounds sending what was read when the run is stopped.
const stopFlushTimeout = 10 * time.Second

// Config configures Enqueue.
type Config struct {
	API      SQSSendAPI
	QueueURL string
	// Retry bounds and paces the sends of one batch entry that fails transiently
	// (Attempts 0: RetryDefault).
	Retry pacing.Policy
	// Case is how usernames compare (--case-sensitive-usernames): the FIFO ids and the
	// Admitter of a nil adm follow it.
	Case   admit.Case
	Logger *slog.Logger
	// Clock is what the retries wait on (required).
	Clock clock.Clock
}

// Summary counts what Enqueue did with the input rows.
type Summary struct {
	Enqueued  int
	Invalid   int // rows that are not a valid username (never sent)
	Duplicate int // usernames seen earlier in the input (under Config.Case)
	Failed    int // rows SQS did not take after the retries
}

// UserKey is the hex SHA-256 of the username's case key under c: a FIFO queue's
// MessageDeduplicationId (a re-run within SQS's 5-minute window adds nothing) and
// MessageGroupId (one group a user, so users don't wait for each other).
func UserKey(c admit.Case, username string) string {
	sum := sha256.Sum256([]byte(c.Key(username)))
	return hex.EncodeToString(sum[:])
}

// Enqueue reads jobs from src, admits them (adm: valid, not a duplicate; nil means a
// fresh Admitter under cfg.Case) and sends each one as a JSON message body to the
// queue, 10 a SendMessageBatch call; entries that fail transiently are retried with
// backoff. It returns when src ends, ctx ends (after sending what it already read) or a
// batch fails completely after its retries.
func Enqueue(ctx context.Context, cfg Config, src job.Source, adm *admit.Admitter) (Summary, error) {
	var sum Summary
	if cfg.Clock == nil {
		return sum, errors.New("enqueue: Config.Clock is required")
	}
	if cfg.Retry.Attempts <= 0 {
		cfg.Retry = RetryDefault
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if adm == nil {
		adm = admit.New(cfg.Case, nil)
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
		j, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// Stopped: what was read is sent, not dropped.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopFlushTimeout)
			ferr := flush(fctx)
			cancel()
			return sum, errors.Join(err, ferr)
		}
		if row, send := adm.Admit(j); !send {
			if row.Status == job.StatusInvalidInput {
				sum.Invalid++
				log.Warn("skipping invalid row", "source_ref", j.SourceRef, "username", j.Username, "reason", j.Invalid)
			} else {
				sum.Duplicate++
				log.Debug("skipping duplicate", "source_ref", j.SourceRef, "username", j.Username)
			}
			continue
		}
		body, err := sqssource.EncodeMessageBody(j)
		if err != nil {
			return sum, err
		}
		if size+len(body) > maxBatchPayload {
			if err := flush(ctx); err != nil {
				return sum, err
			}
		}
		e := sqstypes.SendMessageBatchRequestEntry{Id: sqssource.EntryID(len(batch)), MessageBody: aws.String(body)}
		if fifo {
			k := UserKey(cfg.Case, j.Username)
			e.MessageGroupId, e.MessageDeduplicationId = aws.String(k), aws.String(k)
		}
		batch = append(batch, e)
		size += len(body)
		if len(batch) == sqssource.BatchMax {
			if err := flush(ctx); err != nil {
				return sum, err
			}
		}
	}
	return sum, flush(ctx)
}

// sendBatch sends entries, retrying the whole call and transiently failed entries up to
// Retry.Attempts, and returns how many SQS took.
func sendBatch(ctx context.Context, cfg Config, log *slog.Logger, entries []sqstypes.SendMessageBatchRequestEntry) (int, error) {
	pending := append([]sqstypes.SendMessageBatchRequestEntry(nil), entries...)
	sent, attempt := 0, 0
	var callErr error // the last whole-call failure
	// A call or entries that failed transiently (awserr.Transient) go again (only the
	// failed entries) with backoff: pacing.Retry is the one retry layer (the SQS
	// client has aws.NopRetryer).
	err := pacing.Retry(ctx, cfg.Clock, cfg.Retry, func(ctx context.Context) error {
		attempt++
		out, err := cfg.API.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(cfg.QueueURL), Entries: pending})
		if err != nil {
			callErr = err
			if ctx.Err() != nil || !awserr.Transient(err) {
				return err // an answer (access denied, no such queue): another attempt gets the same
			}
			if attempt < cfg.Retry.Attempts {
				log.Warn("SendMessageBatch failed, retrying", "error", err, "attempt", attempt)
			}
			return pacing.Retryable(err)
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
			if !awserr.Transient(awserr.Entry(aws.ToString(f.Code), aws.ToString(f.Message), f.SenderFault)) || attempt >= cfg.Retry.Attempts {
				log.Error("message not enqueued", "code", aws.ToString(f.Code), "error", aws.ToString(f.Message),
					"sender_fault", f.SenderFault, "attempts", attempt)
				continue
			}
			again = append(again, e)
		}
		pending = again
		if len(pending) > 0 {
			return pacing.Retryable(errEntriesFailed)
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
