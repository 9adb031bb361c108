package campaign

import (
	"context"
	"log/slog"

	"github.com/cognito-resend/cognito-resend/worker/fleet"
	"github.com/cognito-resend/cognito-resend/worker/metrics"
)

// joinFleet makes this replica a member of its --fleet-rate fleet in the ledger table
// and hands it the limiter's ceiling; nil without --fleet-rate. The member must Leave
// once no call can start any more (also after an error).
func (c *Campaign) joinFleet(ctx context.Context, log *slog.Logger, m *metrics.Metrics, replica string,
	limiter fleet.Ceiling) (*fleet.Member, error) {
	if c.cfg.FleetRate <= 0 {
		return nil, nil
	}
	if c.cfg.RateIgnored() {
		log.Warn("--rate has no effect beside --fleet-rate: this replica paces at its share of the fleet rate; "+
			"drop --rate (COGNITO_RESEND_RATE)", "rate", c.cfg.Rate, "fleet_rate", c.cfg.FleetRate)
	}
	f, err := fleet.New(fleet.Config{
		API: c.clients.Dynamo(c.ledgerRegion()), Table: c.cfg.LedgerTable, Region: c.ledgerRegion(), Name: c.cfg.FleetName, Replica: replica,
		Campaign: c.campaignID(), Rate: c.cfg.FleetRate, Heartbeat: c.cfg.FleetHeartbeat,
		Logger: log, Metrics: m, Clock: c.clock,
	})
	if err != nil {
		return nil, err
	}
	if err := f.Join(ctx, limiter); err != nil {
		if ctx.Err() != nil {
			// Stopped while joining (the hold before the first call): no call has
			// started and none will; the run ends as a stop, not as a bad setting.
			return f, nil
		}
		return f, err
	}
	m.WatchFleet(f.Name(), f.Alive, f.Budget, f.Share, f.Configured(), f.RateMismatch)
	return f, nil
}
