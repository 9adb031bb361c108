package config

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// The checks of the commands besides run (enqueue, ledger init|show|list): like Validate,
// each names the first bad field, so cmd only turns flags into a Config and calls one.

// LedgerQuery is what `ledger show` and `ledger list` ask of the table.
type LedgerQuery struct {
	Users    []string // show: the usernames, as given
	State    string   // list: a state or a last outcome, any case (SENT, as show prints it)
	Campaign string   // list: only this campaign's records ("" all); export: the campaign
	Output   string   // export: the report to write (.csv or .jsonl)
	Limit    int      // list: records printed at most
}

// ListState is the --state of `ledger list` as the table spells it ("SENT" is sent).
func (q LedgerQuery) ListState() string { return strings.ToLower(strings.TrimSpace(q.State)) }

// Usernames are the usernames of `ledger show`, without surrounding spaces.
func (q LedgerQuery) Usernames() []string {
	users := make([]string, len(q.Users))
	for i, u := range q.Users {
		users[i] = strings.TrimSpace(u)
	}
	return users
}

// ValidateEnqueue checks the options of `cognito-resend enqueue`.
func (c *Config) ValidateEnqueue() error {
	switch {
	case c.CSV == "":
		return bad("csv", "required: a CSV file, or - for standard input")
	case c.SQSQueueURL == "":
		return bad("sqs-queue-url", "required")
	case checkQueueURL(c.SQSQueueURL) != nil:
		return checkQueueURL(c.SQSQueueURL)
	case c.ValidateHeader() != nil:
		return c.ValidateHeader()
	}
	return c.ValidateLogging()
}

// checkQueueURL checks --sqs-queue-url's form: a URL, not a queue name or ARN.
func checkQueueURL(u string) error {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return nil
	}
	return bad("sqs-queue-url", "must be a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), got %q", u)
}

// The ledger commands (ValidateLedger).
const (
	LedgerInit   = "init"
	LedgerShow   = "show"
	LedgerList   = "list"
	LedgerExport = "export"
)

// ValidateLedger checks the options of a `cognito-resend ledger` command (LedgerInit,
// LedgerShow, LedgerList, LedgerExport): the table, its region, and what show and list ask.
func (c *Config) ValidateLedger(command string) error {
	q := c.Ledger
	switch {
	case c.LedgerTable == "":
		return bad("ledger-table", "required")
	case dynamoledger.ValidTableName(c.LedgerTable) != "":
		return bad("ledger-table", "%s", dynamoledger.ValidTableName(c.LedgerTable))
	case c.ValidateLedgerRegion() != nil:
		return c.ValidateLedgerRegion()
	case command == LedgerShow && c.ClientID == "":
		return bad("client-id", "required (or set %s): users are keyed by app client", EnvClientID)
	case command == LedgerShow && len(q.Users) == 0:
		return errors.New("name at least one USERNAME")
	case command == LedgerList && q.State == "":
		return bad("state", "required: %s", dynamoledger.ValidListState(""))
	case command == LedgerList && dynamoledger.ValidListState(q.ListState()) != "":
		return bad("state", "%s (got %q)", dynamoledger.ValidListState(q.ListState()), q.ListState())
	case command == LedgerList && (q.Limit < 1 || q.Limit > dynamoledger.ListLimitMax):
		return bad("limit", "must be 1..%d (got %d)", dynamoledger.ListLimitMax, q.Limit)
	case command == LedgerExport && strings.TrimSpace(q.Campaign) == "":
		return bad("campaign", "required: the campaign id (Lambda mode: lambda:<function name>, or its --campaign-id)")
	case command == LedgerExport && q.Output == "":
		return bad("output", "required: the report to write (.csv or .jsonl)")
	case command == LedgerExport && checkReportPath(q.Output) != nil:
		return bad("output", "%v", checkReportPath(q.Output))
	case command == LedgerExport && pathExists(q.Output):
		// Before the table's scan: said at once, not after it.
		return bad("output", "%s already exists: ledger export never overwrites a file; choose another --output "+
			"(or move that file away)", q.Output)
	case command != LedgerInit && command != LedgerShow && command != LedgerList && command != LedgerExport:
		return fmt.Errorf("config: no ledger command %q", command)
	}
	return c.ValidateLogging()
}

// ParseKeyValues reads a repeated KEY=VALUE option (--metadata) given on the command
// line; an entry without "=" or with a blank key is an error naming field.
func ParseKeyValues(field string, kvs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, bad(field, "expected KEY=VALUE, got %q", kv)
		}
		m[strings.TrimSpace(k)] = v
	}
	return m, nil
}

// checkReportPath checks that a report's path names its format (.csv, .jsonl, .ndjson).
// pathExists reports whether something is at path (a file the command must not overwrite).
func pathExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func checkReportPath(path string) error {
	_, err := records.FormatForPath(path)
	return err
}
