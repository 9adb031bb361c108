package campaign

import (
	"context"
	"fmt"
	"net/url"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-resend/cognito-resend/config"
)

// The AWS clients. Every one is built with aws.NopRetryer{}: the project's retry layer
// (pacing.Retry around each call, and the SQS source's own batch retries) is the only
// one, so a call is never retried behind the limiter's back, and an error arrives when
// it happens, not after the SDK's attempts.

// loadAWS loads the standard AWS chain (credentials, region, AWS_ENDPOINT_URL_<SERVICE>).
// ResendConfirmationCode is unsigned (anonymous auth): it needs no credentials, only the
// region.
func loadAWS(ctx context.Context, cfg config.Config) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return ac, fmt.Errorf("AWS configuration: %w", err)
	}
	if ac.Region == "" {
		return ac, &config.FieldError{Field: "region", Msg: "no region: pass --region or set AWS_REGION"}
	}
	return ac, nil
}

// newCognito is the Cognito client of the resender and the pool source. Without
// NopRetryer the SDK would retry TooManyRequests and LimitExceeded on its own, behind the
// rate limiter's back and into the per-user limit.
func newCognito(ac aws.Config) *cip.Client {
	return cip.NewFromConfig(ac, func(o *cip.Options) { o.Retryer = aws.NopRetryer{} })
}

// newSQS is the SQS client of the queue source and of enqueue. The queue may live in
// another region than the user pool: a queue URL on an AWS host
// (https://sqs.eu-west-1.amazonaws.com/...) sets the client's region.
func newSQS(ac aws.Config, queueURL string) *sqs.Client {
	return sqs.NewFromConfig(ac, func(o *sqs.Options) {
		o.Retryer = aws.NopRetryer{}
		if r := regionFromQueueURL(queueURL); r != "" {
			o.Region = r
		}
	})
}

var queueHostRegion = regexp.MustCompile(`^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$|^([a-z0-9-]+)\.queue\.amazonaws\.com$`)

func regionFromQueueURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	m := queueHostRegion.FindStringSubmatch(u.Hostname())
	if m == nil {
		return ""
	}
	return m[1] + m[3]
}
