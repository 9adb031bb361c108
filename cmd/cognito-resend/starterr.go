package main

import (
	"errors"

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
