package campaign

import (
	"log/slog"

	"github.com/cognito-resend/cognito-resend/worker/cognito"
)

// newResender is the one place a campaign's ResendConfirmationCode sender is built from
// the options, for a run and for a Lambda function alike; the caller adds what only it
// observes (OnAttempt).
func (c *Campaign) newResender(api cognito.API, limiter cognito.Limiter, breaker cognito.Breaker, log *slog.Logger) *cognito.Resender {
	cfg := c.cfg
	return &cognito.Resender{
		API:                 api,
		ClientID:            cfg.ClientID,
		ClientSecret:        cfg.ClientSecret.Reveal(),
		Metadata:            cfg.Metadata,
		AnalyticsEndpointID: cfg.AnalyticsEndpointID,
		Limiter:             limiter,
		Breaker:             breaker,
		Retry:               cfg.Retry(),
		CallTimeout:         cfg.CallTimeout,
		Logger:              log,
		Clock:               c.clock,
	}
}
