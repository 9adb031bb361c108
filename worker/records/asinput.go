package records

import (
	"fmt"
	"strings"
)

// ReportAsInput refuses a report given as a list of users: its header has the report's
// username, status and source_ref columns (this version's or an earlier one's). Read as
// input it would call everyone in it again, those already sent included. A `report
// users` list (UsersColumns) is made to be input, and passes.
func ReportAsInput(header []string) error {
	has := map[string]bool{}
	for _, h := range header {
		has[strings.ToLower(strings.TrimSpace(h))] = true
	}
	if !has["username"] || !has["status"] || !has["source_ref"] {
		return nil
	}
	return fmt.Errorf("this is a cognito-resend report (its header has username, status and source_ref), not a list " +
		"of users: as input it would call everyone in it again, those already sent included. To call some of its " +
		"users again, list them first: cognito-resend report users --status <s> -o retry.csv REPORT, then " +
		"run --csv retry.csv; to continue its campaign: run --resume --report REPORT with the campaign's own CSV")
}
