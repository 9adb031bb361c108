package campaign

import (
	"context"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"github.com/cognito-resend/cognito-resend/worker/source/poolsource"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

// Env is what a campaign takes from its process.
type Env struct {
	// Stdin is read for --csv -.
	Stdin  io.Reader
	Logger *slog.Logger // nil: discard
	Clock  clock.Clock  // required: every wait and timestamp (cmd passes clock.Real())
	// Factory opens the AWS clients; required (cmd passes AWSFactory, a test its fakes).
	Factory OpenFactory
	// FunctionName is the Lambda function's name (AWS_LAMBDA_FUNCTION_NAME): in Lambda
	// mode the campaign id is "lambda:<name>" unless --campaign-id says otherwise, the
	// same in every execution environment.
	FunctionName string
}

// Campaign is one configured campaign: count it (Census), then run it (Run).
type Campaign struct {
	cfg        config.Config
	budgetFrom string // where the daily budget came from (keepBudget)
	// resetMoved: the resumed report's record, whose budget reset this run moves
	// (checkReset); recordInput writes it again with the new one.
	resetMoved *records.Input
	env        Env
	log        *slog.Logger
	clock      clock.Clock
	clients    Factory // opened by Prepare (connect)
	target     Target  // clients.Target()
	reportPath string
	started    time.Time
	// tableChecked: Prepare found --ledger-table usable.
	tableChecked bool
	// inputChecked: Prepare found the resumed report made from this input (checkInput);
	// csvChanged: the CSV is not the report's (or the report has no record of it):
	// checkLines checks its lines before any call; linesChecked: it did.
	inputChecked, csvChanged, linesChecked bool
	lock                                   *records.Lock // the report's, held from Prepare (lockReport)
	// rerunInput is what checkRerun found this run (without --report) reads: recorded in
	// its lock for the same command started again (records.RunningOf).
	rerunInput *records.Input
	resumed    *resumed // loaded once, by the census or the run
	census     *Census  // set once counted
	// Set by Prepare (preparePool), once: the username case rule, the verify stage and
	// its own limiter.
	rule          *userpool.CaseRule
	verifier      *userpool.Verifier
	verifyLimiter *pacing.Limiter
	verifyBreaker *pacing.Breaker // the verifier's, paused through an outage
	// lister makes every ListUsers call (one limiter: --list-rate); nil without a pool.
	lister *userpool.Lister
	// verifyHow: why a CSV campaign's --verify-users looks each user up instead of
	// listing the pool (fewerLookups); "" with the census.
	verifyHow string
	// verifyIdle: why --verify-users reads nothing of the pool before the run (a CSV
	// with no line left to send: nothingToSend); "" otherwise.
	verifyIdle string
	// snapshot: the pool snapshot this process listed or checked (pool source).
	snapshot *poolsource.Listing
	snapPath string
	snapTemp bool // a dry run's, removed by Close
	// snapCreated: this process listed the pool where no snapshot was (discardSnapshot).
	snapCreated bool
	// filesChecked: Prepare found the report creatable (checkReport).
	filesChecked bool
	// metricsLn is --metrics-addr, bound by Prepare before any file is created; the run
	// serves on it (nil: not bound, or taken).
	metricsLn net.Listener
	// traceCleanup (tests) sees each part a run closes, in order (cleanup.trace).
	traceCleanup func(name string)
}

// New prepares the campaign of cfg (validated). It calls nothing and opens nothing: the
// census and the run do.
func New(cfg config.Config, env Env) *Campaign {
	if env.Clock == nil {
		panic("campaign.New: Env.Clock is required") // a silent system clock would undo a test's fake clock
	}
	if env.Factory == nil {
		panic("campaign.New: Env.Factory is required") // cmd passes AWSFactory
	}
	c := &Campaign{cfg: cfg, env: env, log: env.Logger, clock: env.Clock}
	c.started = c.clock.Now()
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.reportPath = cfg.Report
	if c.reportPath == "" {
		c.reportPath = DefaultReportPath(c.started)
	}
	return c
}

// Prepare runs every check that can fail before a call, once, so that its errors come
// before the prompt and in the dry run too, and creates nothing: the --csv file opens
// (checkCSV), a rerun without
// --report (checkRerun), a run of the same input in progress on another report
// (checkRunning), the report path and its
// directory, --metrics-addr bound (preflight.go), the AWS configuration (the region above
// all), the resumed report's input (checkInput) and a changed CSV's lines against its
// rows (checkLines: before any call), the username case rule, the
// --verify-users check (preparePool) and the --ledger-table check (a describe call).
// Census and Run call it themselves; Close releases what it holds. The one file it
// creates is the report's lock (lockReport), which Close removes.
func (c *Campaign) Prepare(ctx context.Context) error {
	if err := c.checkCSV(); err != nil {
		return err
	}
	if err := c.checkRerun(); err != nil {
		return err
	}
	if err := c.checkRunning(); err != nil {
		return err
	}
	if err := c.checkResumeTarget(); err != nil {
		return err
	}
	if err := c.lockReport(); err != nil {
		return err
	}
	if !c.filesChecked {
		if err := c.checkReport(); err != nil {
			return err
		}
		c.filesChecked = true
	}
	if err := c.bindMetrics(ctx); err != nil {
		return err
	}
	if _, err := c.connect(ctx); err != nil {
		return err
	}
	if err := c.checkInput(); err != nil {
		return err
	}
	if err := c.checkNarrowReport(); err != nil {
		return err
	}
	// A CSV edited since is refused before the case rule's DescribeUserPool: a refusal
	// that needs no call makes none.
	if err := c.checkLines(ctx); err != nil {
		return err
	}
	if err := c.caseRule(ctx); err != nil {
		return err
	}
	// What can refuse a resume (the report's rows) before any listing of the pool: a
	// refusal after a census of minutes is a tired operator's lost time.
	if err := c.checkResumed(); err != nil {
		return err
	}
	if err := c.preparePool(ctx); err != nil {
		return err
	}
	return c.checkTable(ctx)
}

// connect opens the campaign's AWS clients (Env.Factory), once.
func (c *Campaign) connect(ctx context.Context) (Factory, error) {
	if c.clients == nil {
		f, err := c.env.Factory(ctx, c.cfg)
		if err != nil {
			return nil, err
		}
		c.clients, c.target = f, f.Target()
	}
	return c.clients, nil
}

// ReportPath is where the report goes (--report, or the default path of this run).
func (c *Campaign) ReportPath() string { return c.reportPath }

// DefaultReportPath is the report when --report is not given.
func DefaultReportPath(now time.Time) string {
	return "cognito-resend-report-" + now.UTC().Format("20060102T150405Z") + ".csv"
}
