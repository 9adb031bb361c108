package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/metrics"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

// claimLedger is the engine's claim step of this campaign: the shared table with
// --ledger-table, else the file beside the report (closed with the run).
type claimLedger struct {
	engine.Ledger
	renewEvery time.Duration
	lease      time.Duration   // 0 with the file: intents don't expire
	inFlight   int             // claims written at once; 0 with the file: no bound
	owner      string          // this replica in the table; "" with the file
	file       *records.Ledger // nil with a table
	desc       []any
}

func (l *claimLedger) close() error {
	if l.file == nil {
		return nil
	}
	return l.file.Close()
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
	return &claimLedger{Ledger: l, renewEvery: dynamoledger.RenewInterval(l.Lease()), lease: l.Lease(),
		inFlight: dynamoledger.ClaimsInFlightDefault, owner: l.Owner(),
		desc: []any{"ledger_table", c.cfg.LedgerTable, "replica", l.Owner(), "campaign", c.campaignID(),
			"cooldown", c.cfg.Cooldown.String(), "ledger_lease", l.Lease().String()}}, nil
}

func (c *Campaign) newTable(log *slog.Logger, m *metrics.Metrics) (*dynamoledger.Ledger, error) {
	return dynamoledger.New(dynamoledger.Config{
		API: newDynamo(*c.aws), Table: c.cfg.LedgerTable, ClientID: c.cfg.ClientID, Case: c.rule.Case,
		Campaign: c.campaignID(), Lease: c.cfg.LedgerLease, Cooldown: c.cfg.Cooldown,
		RetryUnknown: c.cfg.RetryUnknown, Logger: log, Metrics: m, Clock: c.clock,
	})
}

// campaignID names the campaign in the ledger table: --campaign-id, or the source and
// the start time ("csv:users.csv@2026-03-01T10:00:00Z", "pool:eu-west-1_AbC@…",
// "queue:cognito-resend@…").
func (c *Campaign) campaignID() string {
	if c.cfg.CampaignID != "" {
		return c.cfg.CampaignID
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

// LedgerAdmin is `cognito-resend ledger init` and `ledger show` on cfg's --ledger-table
// (--region, --client-id for show).
type LedgerAdmin struct {
	cfg config.Config
	env Env
	api interface {
		dynamoledger.DynamoDBAdminAPI
		dynamoledger.DynamoDBReadAPI
	}
}

// OpenLedgerAdmin loads the AWS configuration for the ledger commands; an error is a
// usage error.
func OpenLedgerAdmin(ctx context.Context, cfg config.Config, env Env) (*LedgerAdmin, error) {
	if msg := dynamoledger.ValidTableName(cfg.LedgerTable); msg != "" {
		return nil, &config.FieldError{Field: "ledger-table", Msg: msg}
	}
	ac, _, err := loadAWS(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &LedgerAdmin{cfg: cfg, env: env, api: newDynamo(ac)}, nil
}

// Init creates the table (or checks the existing one): see dynamoledger.Init.
func (a *LedgerAdmin) Init(ctx context.Context) (dynamoledger.InitResult, error) {
	return dynamoledger.Init(ctx, a.api, a.cfg.LedgerTable, dynamoledger.InitOptions{Logger: a.env.Logger, Clock: a.env.Clock})
}

// Show reads the records of usernames.
func (a *LedgerAdmin) Show(ctx context.Context, usernames []string) ([]dynamoledger.Shown, error) {
	if a.cfg.ClientID == "" {
		return nil, &config.FieldError{Field: "client-id", Msg: "required (or set " + config.EnvClientID + "): users are keyed by app client"}
	}
	if len(usernames) == 0 {
		return nil, errors.New("name at least one USERNAME")
	}
	rule, _ := userpool.ResolveCase(ctx, userpool.CaseOptions{Flag: a.cfg.CaseSensitiveUsernames}) // no pool: no call, no error
	shown, err := dynamoledger.Show(ctx, a.api, a.cfg.LedgerTable, a.cfg.ClientID, rule.Case, usernames)
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		// One line, not the SDK's (status, request id, …).
		err = fmt.Errorf("table %s does not exist (check --ledger-table and the region): create it with "+
			"`cognito-resend ledger init --ledger-table %s`", a.cfg.LedgerTable, a.cfg.LedgerTable)
	}
	return shown, err
}
