package job

// ErrorClass says what to do about a Cognito answer.
type ErrorClass int

const (
	ClassNone      ErrorClass = iota // success
	ClassRetryable                   // throttle, 5xx, timeout, connection: retry with backoff
	ClassPerUser                     // final for this user (status says which)
	ClassSystemic                    // configuration or account problem: stop the campaign
	ClassCanceled                    // the run is stopping; the job was not finished
	// ClassSpent is the account's daily sending cap (LimitExceededException "Exceeded
	// daily email limit"): nothing was sent, and nothing will be before the next window
	// (the daily budget found the hard way: stop with exit 4, or pause a queue worker).
	ClassSpent
)

func (c ErrorClass) String() string {
	switch c {
	case ClassNone:
		return "none"
	case ClassRetryable:
		return "retryable"
	case ClassPerUser:
		return "per_user"
	case ClassSystemic:
		return "systemic"
	case ClassCanceled:
		return "canceled"
	case ClassSpent:
		return "spent"
	}
	return "unknown"
}
