package engine

import (
	"errors"
	"fmt"
)

// ErrInterrupted is returned by Run when the stop context ended the campaign.
var ErrInterrupted = errors.New("interrupted")

// ErrLedger wraps the error that stopped a run because its ledger could not be written
// (a claim, a renewal, an outcome): nobody is called without a durable claim.
var ErrLedger = errors.New("ledger")

// SystemicError stops a campaign: an answer that would fail every user the same way.
type SystemicError struct {
	Code, Message, Fix string
}

func (e *SystemicError) Error() string {
	return fmt.Sprintf("Cognito answered %s (%s); fix: %s", e.Code, e.Message, e.Fix)
}

// ErrLeaseLapsed ends the attempts of a job whose claim's lease ran out while it held
// it (the process was paused or starved longer than the lease): other owners may have
// judged the claim expired, so this process must not call again.
var ErrLeaseLapsed = errors.New("claim lease lapsed")

// errRefused ends a call whose claim was refused (a verdict other than Won) after its
// rate token was taken: no attempt is made.
var errRefused = errors.New("claim refused")
