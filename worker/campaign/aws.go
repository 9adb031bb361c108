package campaign

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-resend/cognito-resend/config"
)

// The AWS clients. Every one is built with aws.NopRetryer{}: the project's retry layer
// (pacing.Retry around each call, and the SQS source's own batch retries) is the only
// one, so a call is never retried behind the limiter's back, and an error arrives when
// it happens, not after the SDK's attempts.

// Target is where a campaign's Cognito calls go.
type Target struct {
	Region string
	// RegionSource is where the SDK's chain found the region when the configuration does
	// not set it (AWS_REGION, AWS_DEFAULT_REGION, a shared config profile); "" when it
	// does (the caller knows whether from a flag, the environment or a file).
	RegionSource string
	// Endpoint is the URL the SDK resolves for Cognito in that region, or the endpoint
	// override (AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, AWS_ENDPOINT_URL).
	Endpoint string
	// Override: Endpoint comes from an endpoint override, not from the region.
	Override bool
}

// ResolveTarget loads the AWS configuration of cfg as a run does, without calling
// anything, and says where the calls will go (config print).
func ResolveTarget(ctx context.Context, cfg config.Config) (Target, error) {
	_, t, err := loadAWS(ctx, cfg)
	return t, err
}

// loadAWS loads the standard AWS chain (credentials, region, AWS_ENDPOINT_URL_<SERVICE>).
// ResendConfirmationCode is unsigned (anonymous auth): it needs no credentials, only the
// region, whose syntax is checked here wherever it came from: a malformed one must be a
// usage error, not a failed row per user.
func loadAWS(ctx context.Context, cfg config.Config) (aws.Config, Target, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return ac, Target{}, fmt.Errorf("AWS configuration: %w", err)
	}
	keepConnections(&ac, cfg.Workers)
	t := Target{Region: ac.Region}
	if cfg.Region == "" {
		t.RegionSource = chainRegionSource(ac.Region)
	}
	if ac.Region == "" {
		return ac, t, &config.FieldError{Field: "region",
			Msg: "no region: pass --region, set AWS_REGION, or set region in the AWS profile"}
	}
	if err := config.CheckRegion(ac.Region); err != nil {
		if cfg.Region != "" {
			return ac, t, &config.FieldError{Field: "region", Msg: err.Error()}
		}
		return ac, t, fmt.Errorf("region from %s: %w", t.RegionSource, err)
	}
	t.Endpoint, t.Override, err = cognitoEndpoint(ctx, newCognito(ac))
	if err != nil {
		return ac, t, &config.FieldError{Field: "region", Msg: fmt.Sprintf("no Cognito endpoint for region %q: %v", ac.Region, err)}
	}
	return ac, t, nil
}

// chainRegionSource names where the SDK's chain found region: its environment
// variables come before the shared config file (config.resolveRegion), AWS_REGION before
// AWS_DEFAULT_REGION.
func chainRegionSource(region string) string {
	env, _ := awsconfig.NewEnvConfig()
	switch {
	case region == "":
		return ""
	case env.Region == region && os.Getenv("AWS_REGION") == region:
		return "AWS_REGION"
	case env.Region == region:
		return "AWS_DEFAULT_REGION"
	}
	file := cmp.Or(os.Getenv("AWS_CONFIG_FILE"), "~/.aws/config")
	return fmt.Sprintf("profile %q of %s", cmp.Or(env.SharedConfigProfile, "default"), file)
}

// cognitoEndpoint is the endpoint the client's requests go to, resolved the way the
// SDK resolves it for every call.
func cognitoEndpoint(ctx context.Context, c *cip.Client) (string, bool, error) {
	o := c.Options()
	ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, cip.EndpointParameters{
		Region:       aws.String(o.Region),
		Endpoint:     o.BaseEndpoint,
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
	})
	if err != nil {
		return "", false, err
	}
	return ep.URI.String(), o.BaseEndpoint != nil, nil
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

// newDynamo is the DynamoDB client of the ledger table in region (--ledger-region, else
// the campaign's; AWS_ENDPOINT_URL_DYNAMODB points it elsewhere). Without NopRetryer the
// SDK would retry a claim behind the ledger's back, and a campaign whose table is gone
// would stop only after its attempts.
func newDynamo(ac aws.Config, region string) *dynamodb.Client {
	return dynamodb.NewFromConfig(ac, func(o *dynamodb.Options) {
		o.Retryer = aws.NopRetryer{}
		o.Region = region
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
