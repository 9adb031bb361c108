package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/fleet"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/source/lambdasource"
)

// LambdaSettleTimeout bounds each ledger write and release made after an invocation's
// soft stop: within lambdasource.SettleMarginDefault.
const LambdaSettleTimeout = 2 * time.Second

// Function is Lambda mode's campaign: the parts a queue worker builds once — the AWS
// clients, the username case rule and verify stage, the ledger table, the limiter and
// breaker, the resender, the fleet membership — built once per execution environment
// (OpenFunction, at cold start) and shared by every invocation, each one engine run over
// its batch (Handle).
type Function struct {
	c        *Campaign
	handler  *lambdasource.Handler
	member   *fleet.Member
	claims   *claimLedger
	limiter  *pacing.Limiter
	budget   *budget.Budget // --daily-budget on the table's counter (Limit 0: none)
	resender *cognito.Resender
	desc     []any
}

// OpenFunction prepares cfg's Lambda function (cfg.Lambda, validated): every check a
// queue worker makes before its first message (the region, the pool's case rule and
// --verify-users, the ledger table, the fleet), once. An error fails the cold start.
func OpenFunction(ctx context.Context, c *Campaign) (*Function, error) {
	cfg, log := c.cfg, c.log
	if !cfg.Lambda {
		return nil, errors.New("campaign: OpenFunction needs a Lambda mode configuration")
	}
	if _, err := c.connect(ctx); err != nil {
		return nil, err
	}
	if err := c.caseRule(ctx); err != nil { // preparePool reads it (as a run's prepare does)
		return nil, err
	}
	if err := c.preparePool(ctx); err != nil {
		return nil, err
	}
	if err := c.checkTable(ctx); err != nil {
		return nil, err
	}
	claims, err := c.openTable(log, nil)
	if err != nil {
		return nil, err
	}
	if err := c.bindTableReset(ctx, claims.table, log, false); err != nil {
		return nil, err
	}
	limiter := pacing.NewLimiter(pacing.LimiterConfig{Rate: c.ceiling(), Burst: cfg.Burst, Adaptive: cfg.Adaptive,
		Reserve: cfg.Reserve, Clock: c.clock})
	breaker := &pacing.Breaker{Limiter: limiter, Outlast: true, MaxOutage: cfg.MaxOutage, Logger: log, Clock: c.clock,
		OnOutage: func(e *pacing.OutageError) {
			log.Error("Cognito unreachable for longer than --max-outage: batches fail and the event source backs off",
				"endpoint", e.Endpoint, "error", e.Cause)
		}}
	f := &Function{c: c, claims: claims, limiter: limiter, budget: c.newBudget(nil, claims.table)}
	f.resender = c.newResender(c.clients.Cognito(), limiter, breaker, log)
	// The fleet: joined once; its heartbeats run while the environment runs (a frozen
	// environment stops counting after three missed heartbeats, and counts again on
	// its next invocation).
	member, err := c.joinFleet(ctx, log, nil, claims.owner, limiter)
	if err != nil {
		if member != nil {
			_ = member.Leave(context.WithoutCancel(ctx))
		}
		return nil, err
	}
	f.member = member
	f.handler = &lambdasource.Handler{Run: f.run, CallTimeout: cfg.CallTimeout,
		Config:       lambdasource.Config{MaxReceiveCount: cfg.MaxReceiveCount, LimitExceededDelay: cfg.LimitExceededDelay},
		FunctionName: c.env.FunctionName, Logger: log, Clock: c.clock,
		SQS: c.clients.SQS("")} // the call's region is the queue's (its ARN)
	f.desc = append([]any{"region", c.target.Region, "endpoint", c.target.Endpoint, "rate", limiter.Rate(),
		"workers", cfg.Workers, "username_case", c.rule.String(), "max_receive_count", cfg.MaxReceiveCount}, claims.desc...)
	if f.budget.Limit > 0 {
		f.desc = append(f.desc, "daily_budget", f.budget.Limit)
	}
	if member != nil {
		f.desc = append(f.desc, "fleet", member.Name(), "fleet_rate", member.Budget(), "fleet_replicas", member.Alive())
	}
	return f, nil
}

// Describe is the cold start's log line attributes.
func (f *Function) Describe() []any { return f.desc }

// Handle is the Lambda handler.
func (f *Function) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return f.handler.Handle(ctx, ev)
}

// Close leaves the fleet (environment shutdown: SIGTERM).
func (f *Function) Close(ctx context.Context) error {
	if f.member == nil {
		return nil
	}
	return f.member.Leave(ctx)
}

// run is one invocation's pipeline: the queue worker's engine over the batch, with the
// environment's parts, each row one log line (lambdasource) and its outcome in the table.
func (f *Function) run(stop, kill context.Context, src job.Source) error {
	cfg := f.c.cfg
	eng := &engine.Engine{
		Source:         src,
		Processor:      f.resender,
		Report:         discardReport{},
		Workers:        cfg.Workers,
		Logger:         f.c.log,
		Clock:          f.c.clock,
		Admitter:       admit.New(f.c.rule.Case, nil),
		Verifier:       f.c.verifier,
		Ledger:         f.claims.Ledger,
		RenewInterval:  f.claims.renewEvery,
		Lease:          f.claims.lease,
		ClaimsInFlight: f.claims.inFlight,
		SettleTimeout:  LambdaSettleTimeout,
		Budget:         f.budget,
	}
	// A spent budget (or Cognito's daily cap): the job's message waits for the next
	// window (its visibility), not the queue's visibility timeout.
	if b, ok := src.(*lambdasource.Batch); ok {
		eng.OnSpent = func(j job.Job, se *budget.SpentError) { b.Spent(j, se.Next) }
	}
	_, err := eng.Run(stop, kill)
	if errors.Is(err, engine.ErrInterrupted) {
		return errors.New("the invocation's deadline came: calls stopped")
	}
	return err
}

// discardReport is Lambda mode's report: no file (each row is a log line of the batch,
// lambdasource, and its outcome is in the ledger table).
type discardReport struct{}

func (discardReport) Write(job.Result) error { return nil }
func (discardReport) Sync() error            { return nil }

// Serve runs the Lambda runtime's invoke loop (aws-lambda-go, on AWS_LAMBDA_RUNTIME_API)
// until stop (SIGTERM: the environment shuts down, no invocation in flight), then leaves
// the fleet within the settle budget. The loop exits the process itself when the
// Runtime API fails.
func (f *Function) Serve(stop context.Context) error {
	go lambda.StartWithOptions(f.Handle, lambda.WithContext(context.WithoutCancel(stop)))
	<-stop.Done()
	settle, cancel := settleContext(stop)
	defer cancel()
	return f.Close(settle)
}

// InitErrorType is the errorType of a cold start that failed on its configuration.
const InitErrorType = "Cognito-Resend.Configuration"

// ReportInitError posts why the cold start failed to the Runtime API at api
// (POST /runtime/init/error: Lambda shows the option at fault, not only an exit status).
// Best effort, bounded; nothing without api (outside Lambda). The message is a
// configuration error's: it never holds the secret.
func ReportInitError(api string, err error) {
	if api == "" || err == nil {
		return
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // the message as the operator wrote the option: "> 0", not "\u003e 0"
	_ = enc.Encode(map[string]string{"errorMessage": err.Error(), "errorType": InitErrorType})
	req, rerr := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", &body)
	if rerr != nil {
		return
	}
	req.Header.Set("Lambda-Runtime-Function-Error-Type", InitErrorType)
	client := &http.Client{Timeout: initErrorTimeout}
	if resp, perr := client.Do(req); perr == nil {
		_ = resp.Body.Close()
	}
}

// initErrorTimeout bounds the init error's post: a Runtime API that does not answer
// must not hold the failing process.
const initErrorTimeout = 2 * time.Second
