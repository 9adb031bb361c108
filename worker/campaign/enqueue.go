package campaign

import (
	"context"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/source/enqueue"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

// Producer is `cognito-resend enqueue`: a CSV into the queue, one message per user.
type Producer struct {
	cfg  config.Config
	env  Env
	src  *source
	api  enqueue.SQSSendAPI
	rule userpool.CaseRule
}

// OpenProducer opens the CSV and the SQS client of cfg (--csv, --sqs-queue-url,
// --region); an error is a usage error.
func OpenProducer(ctx context.Context, cfg config.Config, env Env) (*Producer, error) {
	if env.Clock == nil {
		panic("campaign.OpenProducer: Env.Clock is required") // the retries wait on it
	}
	if env.Factory == nil {
		panic("campaign.OpenProducer: Env.Factory is required") // cmd passes AWSFactory
	}
	f, err := env.Factory(ctx, cfg)
	if err != nil {
		return nil, err
	}
	src, err := openCSV(ctx, cfg.CSV, cfg.Header, env.Stdin)
	if err != nil {
		return nil, err
	}
	if env.Logger != nil {
		src.logHeader(env.Logger)
	}
	rule, _ := userpool.ResolveCase(ctx, userpool.CaseOptions{Flag: cfg.CaseSensitiveUsernames}) // no pool: no call, no error
	return &Producer{cfg: cfg, env: env, src: src, api: f.SQS(cfg.SQSQueueURL), rule: rule}, nil
}

// Run sends the CSV's users, admitted by the campaign's rule (valid, not a duplicate
// under the case rule of --case-sensitive-usernames).
func (p *Producer) Run(ctx context.Context) (enqueue.Summary, error) {
	defer p.src.close(context.WithoutCancel(ctx)) //nolint:errcheck // closes the input file
	if p.env.Logger != nil {
		p.env.Logger.Info("enqueue starting", "csv", p.cfg.CSV, "username_case", p.rule.String())
	}
	return enqueue.Enqueue(ctx, enqueue.Config{API: p.api, QueueURL: p.cfg.SQSQueueURL, Case: p.rule.Case,
		Logger: p.env.Logger, Clock: p.env.Clock}, p.src, admit.New(p.rule.Case, nil))
}
