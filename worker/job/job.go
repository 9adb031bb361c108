package job

import (
	"context"
	"slices"
	"time"
)

// Status is a job's final (or, for Unknown, undetermined) outcome as written to the report.
type Status string

const (
	StatusSent             Status = "sent"
	StatusAlreadyConfirmed Status = "already_confirmed"
	StatusUserNotFound     Status = "user_not_found"
	// StatusDisabled: the user exists and is disabled (Enabled=false); no code would be
	// delivered (--verify-users, or the pool source's listing).
	StatusDisabled Status = "disabled"
	// StatusNotEligible: the user is in a state a sign-up code does not apply to
	// (FORCE_CHANGE_PASSWORD, RESET_REQUIRED, EXTERNAL_PROVIDER, …); the row says what
	// would help instead.
	StatusNotEligible   Status = "not_eligible"
	StatusInvalidInput  Status = "invalid_input"
	StatusDuplicate     Status = "duplicate"
	StatusLimitExceeded Status = "limit_exceeded"
	StatusFailed        Status = "failed"
	// StatusUnknown marks a user whose call may or may not have reached Cognito
	// (an intent or a claim was recorded but no outcome, e.g. after kill -9).
	StatusUnknown Status = "unknown"
	// StatusRecentlySent marks a user the shared ledger table says was sent a code
	// within the cooldown (by this or another campaign): not called again.
	StatusRecentlySent Status = "recently_sent"
)

// Statuses lists every status in report order, for summaries and metrics.
var Statuses = []Status{
	StatusSent, StatusAlreadyConfirmed, StatusUserNotFound, StatusDisabled, StatusNotEligible,
	StatusInvalidInput, StatusDuplicate, StatusLimitExceeded, StatusFailed, StatusUnknown,
	StatusRecentlySent,
}

// Known reports whether s is one of Statuses: a report line whose status is
// not known is not a row of ours.
func (s Status) Known() bool { return slices.Contains(Statuses, s) }

// Conclusive reports whether a row with this status settles its user for good, whatever
// the source: calling them again is pointless (already_confirmed, user_not_found,
// disabled, not_eligible: what Cognito said of the user) or harmful (sent; recently_sent,
// whose code is still valid; unknown, whose call may have reached Cognito). failed and
// limit_exceeded may be retried later; invalid_input and duplicate say nothing of the
// user.
func (s Status) Conclusive() bool {
	switch s {
	case StatusSent, StatusAlreadyConfirmed, StatusUserNotFound, StatusDisabled, StatusNotEligible, StatusUnknown,
		StatusRecentlySent:
		return true
	}
	return false
}

// Job is one username to resend to, as read from a source.
type Job struct {
	Username        string
	ClientMetadata  map[string]string // per-job metadata, merged over the campaign's
	UserContextData string            // UserContextData.EncodedData
	// SourceRef locates the job in its source: the CSV line number or the SQS message id.
	SourceRef string
	// Invalid, when non-empty, is why the input can't be sent; the job is reported
	// invalid_input without a call.
	Invalid string
	// State, when set, is what the source already knows of the user (the pool source
	// lists it): the verify stage judges it without an AdminGetUser call.
	State *UserState
	// Message is what the user is to be sent, once judged (verify stage); "" is a
	// confirmation code (MessageConfirmation).
	Message Message

	// Ack is called once the job's report row is durably written. It settles the job at
	// the source (SQS: delete or change visibility). Optional.
	Ack func(ctx context.Context, r Result) error
	// Release is called for a job that was taken from the source but never finished (a
	// stop before its call, or between retries): it must become available again. Optional.
	Release func(ctx context.Context) error
	// Defer gives the job back to come again after d, without a row: another owner holds
	// its user's claim (SQS: the message's visibility). Optional: without it the engine
	// keeps the job and dispatches it again after d.
	Defer func(ctx context.Context, d time.Duration) error
}

// UserState is what Cognito says of a user (ListUsers, AdminGetUser).
type UserState struct {
	Status  string // Cognito's UserStatus: UNCONFIRMED, CONFIRMED, FORCE_CHANGE_PASSWORD, …
	Enabled bool
}

// Result is the outcome of one job: one report row.
type Result struct {
	Username       string
	Status         Status
	Attempts       int
	ErrorCode      string
	ErrorMessage   string
	DeliveryMedium string
	Destination    string
	AttributeName  string
	RequestID      string
	SourceRef      string
	StartedAt      time.Time
	FinishedAt     time.Time
	// Message is the message the row is about (sent, or attempted, or held back by the
	// ledger): confirmation or invitation; "" for a row no message was decided for
	// (already_confirmed, user_not_found, …) and for rows of reports written before the
	// column existed.
	Message Message

	// Class is how the last error was classified; not written to the report, used by
	// sources (SQS picks the visibility backoff from it) and metrics.
	Class ErrorClass `json:"-"`
	// Fix is the one-line remedy for a systemic error.
	Fix string `json:"-"`
	// Ambiguous: some attempt ended in a timeout, connection error or 5xx, so Cognito
	// may have sent a code even though no success was seen.
	Ambiguous bool `json:"-"`
}

// Redeliver is the redelivery rule: a source that gives jobs back (SQS) delivers this
// job again later, so its user must not count as done: after a retryable failure (the
// retries ran out) or a per-user limit (an hour later).
func (r Result) Redeliver() bool {
	return r.Status == StatusLimitExceeded || (r.Status == StatusFailed && r.Class == ClassRetryable)
}

// LimitWindow is Cognito's per-user ResendConfirmationCode window: about 5 calls an hour,
// then LimitExceededException until the hour has passed. The one place it is written:
// --retry-failed waits it out after a limit_exceeded row, queue mode's
// --limit-exceeded-delay is at least it.
const LimitWindow = time.Hour

// LimitDue is when a limit_exceeded row's user is past Cognito's per-user window and
// may be called again (zero for any other status): the one rule for that time, which
// --retry-failed, the resume census and the summary's hint all read.
func (r Result) LimitDue() time.Time {
	if r.Status != StatusLimitExceeded {
		return time.Time{}
	}
	return r.FinishedAt.Add(LimitWindow)
}

// RetryDue is --retry-failed's rule: whether a resumed campaign calls again the user
// whose latest row is r, at now. A failed row is due; a limit_exceeded row once
// LimitDue; no other status is.
func (r Result) RetryDue(now time.Time) bool {
	switch r.Status {
	case StatusFailed:
		return true
	case StatusLimitExceeded:
		return !now.Before(r.LimitDue())
	}
	return false
}

// Source yields jobs. Next returns io.EOF when the source is exhausted; a source that
// never ends (SQS) returns only when ctx is done.
type Source interface {
	Next(ctx context.Context) (Job, error)
	// Redelivers reports whether the source delivers again what it is not told is done
	// (a queue: Job.Release, Result.Redeliver). Such a source has no end to count toward,
	// stopping is its normal end, and a resumed campaign leaves skipping to it.
	Redelivers() bool
}
