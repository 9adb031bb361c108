package campaign

import (
	"errors"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
)

// Continue says how to go on after a run that stopped on its input, where the same
// command with --resume would stop the same way: "" when that command continues the
// campaign (an interruption, an outage, a systemic error once fixed).
func (o *Outcome) Continue() string {
	if o.Stopped == nil || o.Redelivers {
		return ""
	}
	var nc *csvsource.NotCSVError
	var fe *config.FieldError
	switch {
	case errors.As(o.Stopped, &nc):
		return "the input stops being text at the line the error names, and would stop the same command there again: " +
			"fix that line (save the file as UTF-8 text), then run with the fixed input and --resume --report " +
			o.ReportPath + " (the lines before it have their rows and are skipped)"
	case errors.As(o.Stopped, &fe) && fe.Field == "resume":
		return "this input is not the CSV the report was made from, and would stop the same command again: " +
			"run with the report's own CSV and --resume --report " + o.ReportPath +
			" (to add users, put the new or fixed lines at the END of that CSV)"
	}
	return ""
}
