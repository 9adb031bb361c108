package cognito

import "github.com/cognito-resend/cognito-resend/worker/job"

// Observed is what an attempt's outcome tells whoever counts attempts (worker/metrics'
// Call): its class, its code ("" when it succeeded), whether Cognito throttled it.
func (o Outcome) Observed() (class job.ErrorClass, code string, throttle bool) {
	if o.Class == job.ClassNone {
		return o.Class, "", o.Throttle
	}
	return o.Class, o.Code, o.Throttle
}
