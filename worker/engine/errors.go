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
