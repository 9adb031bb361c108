package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cognito-resend/cognito-resend/worker/records"
)

// resumeHint names, for --resume without --report, the reports in the current directory
// (where reports go without --report) made from this input, newest first — never picked
// silently: the operator says which. "" when there is none.
func (c *Config) resumeHint() string {
	var in records.Input
	switch {
	case c.CSV == "-":
		return ""
	case c.CSV != "":
		var err error
		if in, err = records.CSVInput(c.CSV); err != nil {
			return ""
		}
	case c.SQSQueueURL != "":
		in = records.Input{Source: records.InputQueue, QueueURL: c.SQSQueueURL}
	default:
		in = records.Input{Source: records.InputPool, UserPoolID: c.UserPoolID}
	}
	found := records.ReportsOf(".", in) // newest first
	switch {
	case len(found) == 1:
		return fmt.Sprintf("the report here made from this input is %[1]s: --resume --report %[1]s", found[0])
	case len(found) > 1:
		// A campaign started over: name them all, not none (trial 4).
		named := found
		if len(named) > reportsNamed {
			named = append(slices.Clip(named[:reportsNamed]), fmt.Sprintf("and %d more", len(found)-reportsNamed))
		}
		return fmt.Sprintf("the reports here made from this input, newest first: %s; --resume --report %s continues the newest",
			strings.Join(named, ", "), found[0])
	}
	return ""
}

// reportsNamed bounds the reports the hint names.
const reportsNamed = 5
