package emu

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// NewSQSClient returns an SQS client for the emulator at endpoint, with
// region us-east-1 and dummy static credentials.
func NewSQSClient(endpoint string, optFns ...func(*sqs.Options)) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       Region,
		Credentials:  staticCredentials(),
		BaseEndpoint: aws.String(endpoint),
	}, optFns...)
}

func staticCredentials() aws.CredentialsProvider {
	return aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""))
}

// CreateQueueWithDLQ creates the queue name and its dead-letter queue name-dlq (both
// with a .fifo suffix and FifoQueue when fifo), the queue's RedrivePolicy sending a
// message to the DLQ after maxReceive receives. It returns both queue URLs.
func CreateQueueWithDLQ(ctx context.Context, c *sqs.Client, name string, fifo bool, maxReceive int) (queueURL, dlqURL string, err error) {
	suffix := ""
	attrs := map[string]string{}
	if fifo {
		suffix = ".fifo"
		attrs[string(sqstypes.QueueAttributeNameFifoQueue)] = "true"
	}
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq" + suffix), Attributes: attrs})
	if err != nil {
		return "", "", fmt.Errorf("create %s-dlq%s: %w", name, suffix, err)
	}
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("get %s-dlq%s arn: %w", name, suffix, err)
	}
	arn := a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if arn == "" {
		return "", "", fmt.Errorf("%s-dlq%s has no QueueArn", name, suffix)
	}
	policy, err := json.Marshal(map[string]string{"deadLetterTargetArn": arn, "maxReceiveCount": strconv.Itoa(maxReceive)})
	if err != nil {
		return "", "", err
	}
	qattrs := map[string]string{string(sqstypes.QueueAttributeNameRedrivePolicy): string(policy)}
	for k, v := range attrs {
		qattrs[k] = v
	}
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + suffix), Attributes: qattrs})
	if err != nil {
		return "", "", fmt.Errorf("create %s%s: %w", name, suffix, err)
	}
	return aws.ToString(q.QueueUrl), aws.ToString(dlq.QueueUrl), nil
}

// QueueCounts returns a queue's ApproximateNumberOfMessages and
// ApproximateNumberOfMessagesNotVisible.
func QueueCounts(ctx context.Context, c *sqs.Client, url string) (visible, notVisible int, err error) {
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return 0, 0, err
	}
	visible, _ = strconv.Atoi(a.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	notVisible, _ = strconv.Atoi(a.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, notVisible, nil
}
