package campaign

import (
	"context"
	"errors"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/awserr"
)

// ErrUnreachable marks a start that failed because an AWS service the campaign needs
// (the ledger table, the queue) did not answer in time: not a usage error — the same
// command works once it answers — so the command exits 3 (stopped), having received and
// sent nothing. A queue worker in a crash loop against it burns no receive.
var ErrUnreachable = errors.New("unreachable")

// startCheckTimeout bounds a start-up check of the table or the queue: long enough for
// a few attempts of the one retry schedule, short enough that an unreachable service
// ends the start in seconds.
const startCheckTimeout = 4 * time.Second

// unreachableError is a start-up check that got no answer.
type unreachableError struct {
	what string // "ledger table", "queue"
	err  error
}

func (e *unreachableError) Error() string {
	return "campaign can't start: " + e.what + " unreachable: " + e.err.Error() +
		"; nothing was received or sent; the same command continues once it answers"
}
func (e *unreachableError) Is(target error) bool { return target == ErrUnreachable }
func (e *unreachableError) Unwrap() error        { return e.err }

// noAnswer reports whether a start-up check's error is the path failing (connection,
// timeout, 5xx, throttle: the SDK's transient errors, or the check's own deadline) rather
// than an answer (no such table, access denied).
func noAnswer(ctx context.Context, err error) bool {
	return awserr.Transient(err) || ctx.Err() != nil
}
