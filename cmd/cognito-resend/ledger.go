package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/campaign"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"github.com/cognito-resend/cognito-resend/worker/words"
)

// ledgerFlags are the options of `ledger init` and `ledger show`; they mean what they
// mean for run. withClient adds --client-id (show: users are keyed by app client).
func ledgerFlags(withClient bool) []cli.Flag {
	fs := append([]cli.Flag{
		&cli.StringFlag{Name: "ledger-table", Usage: "the ledger table's name (required)", Sources: env("ledger-table")},
		&cli.StringFlag{Name: "region", DefaultText: "the standard AWS chain", Usage: "AWS region of the campaigns (their user pool); the table's too, unless --ledger-region", Sources: env("region")},
		&cli.StringFlag{Name: "ledger-region", DefaultText: "--region", Usage: "AWS region of the table, when it is not --region's", Sources: env("ledger-region")},
	}, logFlags("")...)
	if withClient {
		fs = append(fs,
			&cli.StringFlag{Name: "client-id", Usage: "Cognito app client id of the campaigns (required)", Sources: env("client-id", config.EnvClientID)},
			&cli.BoolFlag{Name: "case-sensitive-usernames", Usage: "the pool compares usernames case-sensitively (its campaigns keyed users as given, not lowercased)", Sources: env("case-sensitive-usernames")})
	}
	return fs
}

// ledgerOptions is the configuration of a ledger command (config.LedgerInit, …).
func ledgerOptions(cmd *cli.Command, command string) (config.Config, error) {
	cfg := config.Default()
	cfg.LedgerTable = cmd.String("ledger-table")
	cfg.LedgerRegion = cmd.String("ledger-region")
	applySubcommandOptions(cmd, &cfg)
	if cmd.IsSet("client-id") {
		cfg.ClientID = cmd.String("client-id")
	}
	switch command {
	case config.LedgerShow:
		cfg.Ledger.Users = cmd.Args().Slice()
	case config.LedgerList:
		cfg.Ledger.State, cfg.Ledger.Campaign, cfg.Ledger.Limit = cmd.String("state"), cmd.String("campaign"), int(cmd.Int("limit"))
	case config.LedgerExport:
		cfg.Ledger.Campaign, cfg.Ledger.Output = cmd.String("campaign"), cmd.String("output")
	}
	return cfg, cfg.ValidateLedger(command)
}

// newCmdLedger is `cognito-resend ledger init|show|list`.
func newCmdLedger(ios streams) *cli.Command {
	return &cli.Command{
		Name:  "ledger",
		Usage: "the shared ledger table (--ledger-table): create it, ask it whether a user was sent a code, list users by state, export a campaign's report",
		Commands: []*cli.Command{{
			Name:      "init",
			Usage:     "create the ledger table (on demand, key pk+sk, TTL on expires_at) or check an existing one",
			UsageText: "cognito-resend ledger init --ledger-table NAME [--ledger-region REGION | --region REGION]",
			Flags:     ledgerFlags(false),
			Action: func(ctx context.Context, cmd *cli.Command) error {
				return ledgerInit(ctx, cmd, ios)
			},
		}, {
			Name:      "show",
			Usage:     "one line per user: state, outcome, when, which campaign and replica",
			UsageText: "cognito-resend ledger show --ledger-table NAME --client-id ID USERNAME...",
			Flags:     ledgerFlags(true),
			Action: func(ctx context.Context, cmd *cli.Command) error {
				return ledgerShow(ctx, cmd, ios)
			},
		}, {
			Name:  "list",
			Usage: "the users whose record is in a state (unknown, sent, …) or had an outcome (failed, …), as a table or --json",
			UsageText: "cognito-resend ledger list --ledger-table NAME --state unknown|failed|sent|in_progress|released|OUTCOME " +
				"[--campaign ID] [--client-id ID] [--limit N] [--json]",
			Flags: append(ledgerFlags(false),
				&cli.StringFlag{Name: "state", Usage: "sent, unknown (a call may have reached Cognito: no outcome recorded), in_progress, released, or an outcome: failed, limit_exceeded, user_not_found, … (required)"},
				&cli.StringFlag{Name: "campaign", Usage: "only this campaign's records (--campaign-id, or the id the campaign logged at its start)"},
				&cli.StringFlag{Name: "client-id", Usage: "only this app client's users", Sources: env("client-id", config.EnvClientID)},
				&cli.IntFlag{Name: "limit", Value: dynamoledger.ListLimitDefault, Usage: "records printed at most; the scan stops there"},
				&cli.BoolFlag{Name: "json", Usage: "one JSON object per record and line (keys: username, state, outcome, error_code, attempts, campaign, replica, …_at)"}),
			Action: func(ctx context.Context, cmd *cli.Command) error {
				return ledgerList(ctx, cmd, ios)
			},
		}, {
			Name:      "export",
			Usage:     "a campaign's report rebuilt from the table (a Lambda campaign's): one row per user with an outcome; cognito-resend report reads it",
			UsageText: "cognito-resend ledger export --ledger-table NAME --campaign ID --output report.csv|.jsonl [--client-id ID]",
			Flags: append(ledgerFlags(false),
				&cli.StringFlag{Name: "campaign", Usage: "the campaign (required; Lambda mode: lambda:<function name>, or its --campaign-id)"},
				&cli.StringFlag{Name: "client-id", Usage: "only this app client's users", Sources: env("client-id", config.EnvClientID)},
				&cli.StringFlag{Name: "output", Usage: "the report to write, .csv or .jsonl (required; never overwritten)"}),
			Action: func(ctx context.Context, cmd *cli.Command) error {
				return ledgerExport(ctx, cmd, ios)
			},
		}},
	}
}

func openLedgerAdmin(ctx context.Context, cmd *cli.Command, command string, ios streams) (*campaign.LedgerAdmin, error) {
	cfg, err := ledgerOptions(cmd, command)
	if err != nil {
		return nil, usageErr(err)
	}
	a, err := campaign.OpenLedgerAdmin(ctx, cfg, campaign.Env{Logger: newLogger(cfg, ios.stderr), Clock: clock.Real(), Factory: campaign.AWSFactory})
	if err != nil {
		return nil, usageErr(err)
	}
	return a, nil
}

// ledgerInit: exit 0 when the table is ready (created, or there with the right key
// schema), 2 naming what differs in a table of another shape, 1 when DynamoDB fails.
func ledgerInit(ctx context.Context, cmd *cli.Command, ios streams) error {
	a, err := openLedgerAdmin(ctx, cmd, config.LedgerInit, ios)
	if err != nil {
		return err
	}
	res, err := a.Init(ctx)
	var se *dynamoledger.SchemaError
	switch {
	case errors.As(err, &se):
		return usageErr(err)
	case err != nil:
		return failedErr(err)
	}
	table := cmd.String("ledger-table") + " in " + a.Region()
	if res.Created {
		fmt.Fprintf(ios.stdout, "table %s created: on-demand billing, key pk (S) + sk (S); TTL on expires_at: %s\n", table, res.TTL)
	} else {
		fmt.Fprintf(ios.stdout, "table %s exists with the ledger's key schema; TTL on expires_at: %s\n", table, res.TTL)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(ios.stdout, "warning:", w)
	}
	return nil
}

// ledgerShow prints one line per username; exit 1 when the table can't be read.
func ledgerShow(ctx context.Context, cmd *cli.Command, ios streams) error {
	a, err := openLedgerAdmin(ctx, cmd, config.LedgerShow, ios)
	if err != nil {
		return err
	}
	shown, err := a.Show(ctx)
	if errors.Is(err, dynamoledger.ErrTable) {
		return usageErr(err) // a table that is not there (in that region) is the operator's to fix
	}
	now := clock.Real().Now()
	for _, sh := range shown {
		fmt.Fprintln(ios.stdout, sh.Line(now))
	}
	if err != nil {
		return failedErr(err)
	}
	return nil
}

// ledgerList prints the records in a state: a table for people (and a line saying how
// many, and whether more match), or JSON lines; exit 2 for a bad --state or a table that
// is not there, 1 when the table can't be read.
func ledgerList(ctx context.Context, cmd *cli.Command, ios streams) error {
	a, err := openLedgerAdmin(ctx, cmd, config.LedgerList, ios)
	if err != nil {
		return err
	}
	now := clock.Real().Now()
	listed, err := a.List(ctx, now)
	switch {
	case errors.Is(err, dynamoledger.ErrTable):
		return usageErr(err)
	case err != nil:
		return failedErr(err)
	}
	if cmd.Bool("json") {
		enc := json.NewEncoder(ios.stdout)
		for _, r := range listed.Records {
			if err := enc.Encode(r.JSON(now)); err != nil {
				return writeErr(err)
			}
		}
	} else if len(listed.Records) > 0 {
		tw := tabwriter.NewWriter(ios.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(dynamoledger.ListColumns, "\t"))
		for _, r := range listed.Records {
			fmt.Fprintln(tw, strings.Join(r.Row(now), "\t"))
		}
		if err := tw.Flush(); err != nil {
			return writeErr(err)
		}
	}
	// The count goes to stderr with --json, so that stdout stays JSON lines.
	out := ios.stdout
	if cmd.Bool("json") {
		out = ios.stderr
	}
	fmt.Fprintf(out, "%d records, state %s, in table %s in %s (%d items scanned)\n",
		len(listed.Records), cmd.String("state"), cmd.String("ledger-table"), a.Region(), listed.Scanned)
	if listed.More {
		fmt.Fprintf(out, "more records match: raise --limit (now %d) or narrow with --campaign\n", cmd.Int("limit"))
	}
	return nil
}

// ledgerExport writes a campaign's rows from the table as a report, and says on stderr
// how many users have no row yet; exit 2 for a bad option or a table that is not there,
// 1 when the table can't be read.
func ledgerExport(ctx context.Context, cmd *cli.Command, ios streams) error {
	a, err := openLedgerAdmin(ctx, cmd, config.LedgerExport, ios)
	if err != nil {
		return err
	}
	out := cmd.String("output")
	now := clock.Real().Now()
	ex, err := a.Export(ctx, now)
	switch {
	case errors.Is(err, dynamoledger.ErrTable), errors.Is(err, campaign.ErrNoCampaign):
		return usageErr(err)
	case err != nil:
		return failedErr(err)
	}
	w, err := records.OpenReport(out, false)
	if err != nil {
		return usageErr(err)
	}
	counts := map[job.Status]int{}
	for _, r := range ex.Rows {
		counts[r.Status]++
		if err := w.Write(r); err != nil {
			_ = w.Close()
			return writeErr(err)
		}
	}
	if err := w.Close(); err != nil {
		return writeErr(err)
	}
	var parts []string
	for _, st := range job.Statuses {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", st, counts[st]))
		}
	}
	statuses := ""
	if len(parts) > 0 {
		statuses = " (" + strings.Join(parts, ", ") + ")"
	}
	id := cmd.String("campaign")
	fmt.Fprintf(ios.stderr, "%s: %s of campaign %s%s from table %s in %s; %d being sent now, %d given back without an outcome yet (%s)\n",
		out, words.Count(int64(len(ex.Rows)), "user"), id, statuses, cmd.String("ledger-table"), a.Region(), len(ex.InProgress),
		len(ex.Pending), givenBack(id))
	return nil
}

// givenBack says where the users a campaign gave back without an outcome are, by its
// id's source (campaign.campaignID): a queue's messages are in it, a CSV's or a pool's
// users are sent by --resume of its report.
func givenBack(id string) string {
	switch {
	case strings.HasPrefix(id, "queue:"), strings.HasPrefix(id, "lambda:"):
		return "their messages are in the queue or its DLQ"
	case strings.HasPrefix(id, "csv:"), strings.HasPrefix(id, "pool:"):
		return "not called: --resume of the campaign's report sends them"
	}
	return "not called: a queue campaign's messages are in the queue or its DLQ; a CSV or pool campaign's --resume sends them"
}
