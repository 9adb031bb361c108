package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/cognito-resend/cognito-resend/worker/campaign"
)

// startErr is a campaign that could not start: a usage error (exit 2), or exit 3 when a
// service it needs did not answer (campaign.ErrUnreachable: nothing was received or
// sent, and the same command works once it answers).
func startErr(err error) error {
	if errors.Is(err, campaign.ErrUnreachable) {
		return stoppedErr(err)
	}
	return usageErr(err)
}

// stoppedEarly is an error before the run started: exit 3 with what to do next when a
// signal stopped it (nothing was sent), else what orElse makes of it.
func stoppedEarly(stop context.Context, err error, orElse func(error) error) error {
	if stop.Err() == nil || err == nil {
		return orElse(err)
	}
	return stoppedErr(fmt.Errorf("stopped by a signal before the run started (%v): nothing was sent; "+
		"run the same command again to start it", err))
}
