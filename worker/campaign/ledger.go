package campaign

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/metrics"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
	"github.com/cognito-resend/cognito-resend/worker/words"
)

// claimLedger is the engine's claim step of this campaign: the shared table with
// --ledger-table, else the file beside the report (closed with the run).
type claimLedger struct {
	engine.Ledger
	renewEvery time.Duration
	lease      time.Duration        // 0 with the file: intents don't expire
	inFlight   int                  // claims written at once; 0 with the file: no bound
	owner      string               // this replica in the table; "" with the file
	file       *records.IntentLog   // nil with a table
	table      *dynamoledger.Ledger // nil with the file
	desc       []any
}

// checkTable verifies --ledger-table once, before any call (Prepare): a table that is
// missing or not a ledger is a usage error; one that does not answer within
// startCheckTimeout is ErrUnreachable (exit 3: nothing received or sent).
func (c *Campaign) checkTable(ctx context.Context) error {
	if c.cfg.LedgerTable == "" || c.tableChecked {
		return nil
	}
	l, err := c.newTable(c.log, nil)
	if err != nil {
		return err
	}
	checkCtx, cancel := clock.WithTimeout(ctx, c.clock, startCheckTimeout)
	defer cancel()
	if err := l.Check(checkCtx); err != nil {
		if noAnswer(checkCtx, err) && ctx.Err() == nil {
			return &unreachableError{what: "ledger table", err: err}
		}
		var miss *dynamoledger.MissingError
		if errors.As(err, &miss) {
			err = missingTable(ctx, c.clients, miss, c.clock)
		}
		return &config.FieldError{Field: "ledger-table", Msg: err.Error()}
	}
	c.tableChecked = true
	return nil
}

// openTable is the run's claim step on --ledger-table (checked by Prepare); nil without
// one.
func (c *Campaign) openTable(log *slog.Logger, m *metrics.Metrics) (*claimLedger, error) {
	if c.cfg.LedgerTable == "" {
		return nil, nil
	}
	l, err := c.newTable(log, m)
	if err != nil {
		return nil, err
	}
	return &claimLedger{Ledger: l, table: l, renewEvery: dynamoledger.RenewInterval(l.Lease()), lease: l.Lease(),
		inFlight: dynamoledger.ClaimsInFlightDefault, owner: l.Owner(),
		desc: []any{"ledger_table", c.cfg.LedgerTable, "ledger_region", c.ledgerRegion(), "replica", l.Owner(), "campaign", c.campaignID(),
			"cooldown", c.cfg.Cooldown.String(), "ledger_retention", c.cfg.LedgerRetention.String(),
			"ledger_lease", l.Lease().String()}}, nil
}

func (c *Campaign) newTable(log *slog.Logger, m *metrics.Metrics) (*dynamoledger.Ledger, error) {
	return dynamoledger.New(dynamoledger.Config{
		API: c.clients.Dynamo(c.ledgerRegion()), Table: c.cfg.LedgerTable, Region: c.ledgerRegion(), ClientID: c.cfg.ClientID, Case: c.rule.Case,
		Campaign: c.campaignID(), Lease: c.cfg.LedgerLease, Cooldown: c.cfg.Cooldown, Retention: c.cfg.LedgerRetention,
		RetryUnknown: c.cfg.RetryUnknown, Logger: log, Metrics: m, Clock: c.clock,
	})
}

// ledgerRegion is the table's region: --ledger-region, else the campaign's.
func (c *Campaign) ledgerRegion() string { return cmp.Or(c.cfg.LedgerRegion, c.target.Region) }

// missingTable is the advice on a --ledger-table that is not in its region. The other
// region the operator named (--region, when --ledger-region is another) is asked whether
// it has a table of that name; `ledger init` is suggested only when none has: a ledger
// created in the wrong region would be empty, and every user the real one recorded could
// get a second code.
func missingTable(ctx context.Context, f Factory, miss *dynamoledger.MissingError, clk clock.Clock) error {
	create := fmt.Sprintf("create it with `cognito-resend ledger init --ledger-table %s --ledger-region %s` "+
		"(or the CloudFormation template in deploy/)", miss.Table, miss.Region)
	other := f.Target().Region
	if other == "" || other == miss.Region {
		return fmt.Errorf("%w: if the ledger is in another region, set --ledger-region; else %s", miss, create)
	}
	found, err := dynamoledger.Exists(ctx, f.Dynamo(other), miss.Table, other, clk)
	switch {
	case err != nil:
		return fmt.Errorf("%w; whether %s has it could not be read (%v): check --ledger-region before creating a ledger", miss, other, err)
	case found:
		return fmt.Errorf("%w (--ledger-region), but a table of that name exists in %s (--region): if that is the ledger, "+
			"set --ledger-region %s; do not create a second one, which would be empty", miss, other, other)
	}
	return fmt.Errorf("%w (--ledger-region) nor in %s (--region): %s", miss, other, create)
}

// campaignID names the campaign in the ledger table: --campaign-id, or the source and
// the start time ("csv:users.csv@2026-03-01T10:00:00Z", "pool:eu-west-1_AbC@…",
// "queue:cognito-resend@…").
func (c *Campaign) campaignID() string {
	if c.cfg.CampaignID != "" {
		return c.cfg.CampaignID
	}
	if c.cfg.Lambda {
		// Every execution environment of the function is one campaign.
		return "lambda:" + cmp.Or(c.env.FunctionName, "cognito-resend")
	}
	var src string
	switch {
	case c.cfg.CSV == "-":
		src = "csv:stdin"
	case c.cfg.CSV != "":
		src = "csv:" + filepath.Base(c.cfg.CSV)
	case c.cfg.UserPoolID != "":
		src = "pool:" + c.cfg.UserPoolID
	default:
		name := c.cfg.SQSQueueURL
		if u, err := url.Parse(name); err == nil {
			name = path.Base(u.Path)
		}
		src = "queue:" + name
	}
	return src + "@" + c.started.UTC().Format(time.RFC3339)
}

// LedgerAdmin is `cognito-resend ledger init`, `ledger show` and `ledger list` on cfg's
// --ledger-table (in --ledger-region, else --region; --client-id for show).
type LedgerAdmin struct {
	cfg     config.Config
	env     Env
	clients Factory
	region  string // the table's
	api     DynamoAPI
}

// OpenLedgerAdmin loads the AWS configuration for the ledger commands (cfg checked by
// config's ValidateLedger); an error is a usage error.
func OpenLedgerAdmin(ctx context.Context, cfg config.Config, env Env) (*LedgerAdmin, error) {
	if env.Clock == nil {
		panic("campaign.OpenLedgerAdmin: Env.Clock is required") // the table calls' retries wait on it
	}
	if env.Factory == nil {
		panic("campaign.OpenLedgerAdmin: Env.Factory is required") // cmd passes AWSFactory
	}
	f, err := env.Factory(ctx, cfg)
	if err != nil {
		return nil, err
	}
	region := cmp.Or(cfg.LedgerRegion, f.Target().Region)
	return &LedgerAdmin{cfg: cfg, env: env, clients: f, region: region, api: f.Dynamo(region)}, nil
}

// Region is the table's region.
func (a *LedgerAdmin) Region() string { return a.region }

// Init creates the table (or checks the existing one): see dynamoledger.Init. A table
// created in --ledger-region while --region has one of that name gets a warning: the
// campaigns that use the other one won't see this one's records, nor it theirs.
func (a *LedgerAdmin) Init(ctx context.Context) (dynamoledger.InitResult, error) {
	res, err := dynamoledger.Init(ctx, a.api, a.cfg.LedgerTable, dynamoledger.InitOptions{Region: a.region, Logger: a.env.Logger, Clock: a.env.Clock})
	home := a.clients.Target().Region // --region's
	if err != nil || !res.Created || home == a.region {
		return res, err
	}
	if found, err := dynamoledger.Exists(ctx, a.clients.Dynamo(home), a.cfg.LedgerTable, home, a.env.Clock); err == nil && found {
		res.Warnings = append(res.Warnings, fmt.Sprintf("a table named %s also exists in %s (--region): this one in %s is empty, "+
			"and campaigns recorded in the other can get a second code through it; if the ledger is the other one, delete this one "+
			"and set --ledger-region %s", a.cfg.LedgerTable, home, a.region, home))
	}
	return res, nil
}

// explain adds the advice of missingTable to a *dynamoledger.MissingError; other errors
// are returned as they are.
func (a *LedgerAdmin) explain(ctx context.Context, err error) error {
	var miss *dynamoledger.MissingError
	if errors.As(err, &miss) {
		return missingTable(ctx, a.clients, miss, a.env.Clock)
	}
	return err
}

// List reads the user records cfg.Ledger selects (a Scan of the table), judged at now:
// see dynamoledger.List. --client-id, when given, keeps its users only.
func (a *LedgerAdmin) List(ctx context.Context, now time.Time) (dynamoledger.Listed, error) {
	q := a.cfg.Ledger
	listed, err := dynamoledger.List(ctx, a.api, a.cfg.LedgerTable, a.region, dynamoledger.ListOptions{
		State: q.ListState(), Campaign: q.Campaign, Limit: q.Limit, Now: now, ClientID: a.cfg.ClientID, Clock: a.env.Clock})
	return listed, a.explain(ctx, err)
}

// Show reads the records of the usernames of cfg.Ledger.
func (a *LedgerAdmin) Show(ctx context.Context) ([]dynamoledger.Shown, error) {
	usernames := a.cfg.Ledger.Usernames()
	rule, _ := userpool.ResolveCase(ctx, userpool.CaseOptions{Flag: a.cfg.CaseSensitiveUsernames}) // no pool: no call, no error
	// A missing table (in that region) comes back with the region advice of missingTable:
	// never a bare "create it", which could make a second, empty ledger elsewhere.
	shown, err := dynamoledger.Show(ctx, a.api, a.cfg.LedgerTable, a.region, a.cfg.ClientID, rule.Case, usernames, a.env.Clock)
	return shown, a.explain(ctx, err)
}

// Export rebuilds a campaign's report from the table (a Lambda campaign's report):
// see dynamoledger.Export. --client-id, when given, keeps its users only.
// A campaign with no record in the table is ErrNoCampaign, naming the campaigns it has:
// a misspelt --campaign wrote an empty report, exit 0 (trial 4).
func (a *LedgerAdmin) Export(ctx context.Context, now time.Time) (dynamoledger.Exported, error) {
	ex, err := dynamoledger.Export(ctx, a.api, a.cfg.LedgerTable, a.region, dynamoledger.ExportOptions{Campaign: a.cfg.Ledger.Campaign,
		ClientID: a.cfg.ClientID, Now: now, Clock: a.env.Clock})
	if err != nil || len(ex.Rows)+len(ex.InProgress)+len(ex.Pending) > 0 {
		return ex, a.explain(ctx, err)
	}
	has, err := dynamoledger.Campaigns(ctx, a.api, a.cfg.LedgerTable, a.region, a.cfg.ClientID, a.env.Clock)
	if err != nil {
		return ex, a.explain(ctx, err)
	}
	return ex, noCampaign(a.cfg.Ledger.Campaign, a.cfg.LedgerTable, a.region, a.cfg.ClientID, has)
}

// ErrNoCampaign: `ledger export --campaign` names a campaign the table has no record of.
var ErrNoCampaign = errors.New("--campaign")

// campaignsNamed bounds the campaigns an ErrNoCampaign names.
const campaignsNamed = 10

func noCampaign(id, table, region, clientID string, has []dynamoledger.CampaignUsers) error {
	of := ""
	if clientID != "" {
		of = " of app client " + clientID
	}
	var names []string
	for i, c := range has {
		if i == campaignsNamed {
			names = append(names, fmt.Sprintf("and %d more", len(has)-i))
			break
		}
		names = append(names, fmt.Sprintf("%s (%s)", cmp.Or(c.Campaign, "no campaign recorded"), words.Count(c.Users, "user")))
	}
	its := "it has no campaign's records" + of + " (none written yet, or all past their --ledger-retention)"
	if len(names) > 0 {
		its = "its campaigns" + of + ": " + strings.Join(names, ", ")
	}
	return fmt.Errorf("%w: table %s in %s has no record of campaign %s%s, nothing written; %s. --campaign takes the id a campaign "+
		"logged at its start (its log's campaign), or its --campaign-id", ErrNoCampaign, table, region, id, of, its)
}
