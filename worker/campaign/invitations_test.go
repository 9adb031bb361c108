package campaign

import (
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// The fleet rule for invitations: a replica's share of --fleet-rate is its share of
// --invitation-rate too, so scaling the fleet never raises the UserCreation calls.
func TestFleetCeilingSplitsInvitationsAlike(t *testing.T) {
	t.Parallel()
	clk := clockwork.NewFakeClock()
	resend := pacing.NewLimiter(pacing.LimiterConfig{Rate: 20, Burst: 1, Clock: clk})
	inv := &invitations{limiter: pacing.NewLimiter(pacing.LimiterConfig{Rate: 10, Burst: 1, Clock: clk})}
	c := &Campaign{cfg: config.Config{FleetRate: 20, InvitationRate: 10, Invitations: true}}
	ceiling := c.ceilings(resend, inv)
	ceiling.SetCeiling(5) // a quarter of the fleet rate: four replicas alive
	require.InDelta(t, 5, resend.Rate(), 1e-9)
	require.InDelta(t, 2.5, inv.limiter.Rate(), 1e-9, "a quarter of --invitation-rate")
	ceiling.SetCeiling(20) // alone again
	require.InDelta(t, 10, inv.limiter.Rate(), 1e-9)

	c.cfg.FleetRate = 0
	require.Same(t, resend, c.ceilings(resend, inv), "no fleet: the resend limiter alone")
	c.cfg.FleetRate = 20
	require.Same(t, resend, c.ceilings(resend, nil), "no --invitations: the resend limiter alone")
}
