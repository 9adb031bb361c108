package config

import (
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// resumeHint names, for --resume without --report, the one report in the current
// directory (where reports go without --report) made from this input — never picked
// silently: the operator says it. "" when there is none, or more than one.
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
	if found := records.ReportsOf(".", in); len(found) == 1 {
		return found[0]
	}
	return ""
}
