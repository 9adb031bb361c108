package sqssource

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// callOnce makes an SQS call that is not part of a batch loop (GetQueueAttributes,
// SendMessage to the DLQ): each attempt bounded by CallTimeout, transient failures
// retried on the source's schedule (pacing.Retry: the client has no retryer of its own).
func (s *Source) callOnce(ctx context.Context, op string, call func(ctx context.Context) error) error {
	return pacing.Retry(ctx, s.cfg.Clock, s.retry, func(ctx context.Context) error {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
		defer cancel()
		err := call(cctx)
		s.cfg.Metrics.SQSCall(op, awserr.Label(err))
		if err != nil && ctx.Err() == nil && awserr.Transient(err) {
			return pacing.Retryable(err)
		}
		return err
	})
}

// findDLQ reads the queue's RedrivePolicy: the dead-letter queue poison messages go to.
func (s *Source) findDLQ(ctx context.Context) error {
	var out *sqs.GetQueueAttributesOutput
	err := s.callOnce(ctx, "GetQueueAttributes", func(ctx context.Context) (err error) {
		out, err = s.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(s.cfg.QueueURL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("sqs queue %s: %w", s.cfg.QueueURL, err)
	}
	rp := out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]
	if rp == "" {
		s.log.Warn("queue has no RedrivePolicy: poison messages (invalid_input: no Cognito call can come of them) are recorded and deleted, and retryable failures come back until they succeed", "queue", s.cfg.QueueURL)
		return nil
	}
	var policy struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	if err := json.Unmarshal([]byte(rp), &policy); err != nil {
		return fmt.Errorf("sqs queue %s: RedrivePolicy: %w", s.cfg.QueueURL, err)
	}
	u, err := QueueURLFromARN(s.cfg.QueueURL, policy.DeadLetterTargetArn)
	if err != nil {
		return fmt.Errorf("sqs queue %s: RedrivePolicy: %w", s.cfg.QueueURL, err)
	}
	s.dlqURL = u
	return nil
}

// QueueURLFromARN builds the URL of the queue named by arn (arn:aws:sqs:REGION:ACCOUNT:NAME)
// on the same endpoint as queueURL (a DLQ is in the same account and region).
func QueueURLFromARN(queueURL, arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[4] == "" || parts[5] == "" {
		return "", fmt.Errorf("not an SQS queue ARN: %q", arn)
	}
	u, err := url.Parse(queueURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("bad queue URL %q", queueURL)
	}
	u.Path = "/" + parts[4] + "/" + parts[5]
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String(), nil
}

// toDLQ copies a poison message to the dead-letter queue, with why it is poison.
func (s *Source) toDLQ(ctx context.Context, m *message, reason string) error {
	in := &sqs.SendMessageInput{
		QueueUrl:    aws.String(s.dlqURL),
		MessageBody: aws.String(m.body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"cognito-resend-reason": {DataType: aws.String("String"), StringValue: aws.String(truncate(reason, 1024))},
			"cognito-resend-source": {DataType: aws.String("String"), StringValue: aws.String(m.id)},
		},
	}
	if s.fifo {
		in.MessageGroupId = aws.String(cmp.Or(m.groupID, "poison"))
		in.MessageDeduplicationId = aws.String(m.id)
	}
	err := s.callOnce(ctx, "SendMessage", func(ctx context.Context) error {
		_, err := s.api.SendMessage(ctx, in)
		return err
	})
	if err == nil {
		s.cfg.Metrics.DLQMove()
		s.log.Warn("poison message moved to the dead-letter queue", "message_id", m.id, "reason", reason, "dlq", s.dlqURL)
	}
	return err
}
