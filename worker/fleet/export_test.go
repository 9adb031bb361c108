package fleet

import (
	"context"
	"time"
)

// The loops of Join, one step at a time, for tests that drive the clock themselves.

// First is Join's first round (heartbeat, read), which starts the hold; no loop starts.
func (m *Member) First(ctx context.Context, ceiling Ceiling) error { return m.first(ctx, ceiling) }

// Round is one heartbeat round: write, then read.
func (m *Member) Round(ctx context.Context) error { return m.round(ctx) }

// Apply sets the ceiling to the share of now.
func (m *Member) Apply() { m.apply() }

// Hold, Ramp, Expiry and Step are the timings of the member's heartbeat interval.
func (m *Member) Hold() time.Duration   { return m.cfg.hold() }
func (m *Member) Ramp() time.Duration   { return m.cfg.ramp() }
func (m *Member) Expiry() time.Duration { return m.cfg.expiry() }
func (m *Member) Step() time.Duration   { return m.cfg.step() }
