package fleet

import "time"

// shaper turns the share the fleet's table says is this replica's (the target) into the
// ceiling applied to its limiter, over time: a lower target applies at once (another
// replica joined: taking less at once never overcommits the fleet), a higher one ramps
// up linearly over ramp (a replica left or died; the fleet must not swing on one read),
// and a replica that joins starts at half its share and ramps to it.
type shaper struct {
	ramp time.Duration
	// The share moves linearly from from to to, starting at since, over ramp.
	from, to float64
	since    time.Time
}

// at is the share at now.
func (s *shaper) at(now time.Time) float64 {
	d := now.Sub(s.since)
	if d >= s.ramp || s.ramp <= 0 || s.to <= s.from {
		return s.to
	}
	if d <= 0 {
		return s.from
	}
	return s.from + (s.to-s.from)*float64(d)/float64(s.ramp)
}

// start begins a replica's share, after its hold: half of target, rising to it.
func (s *shaper) start(now time.Time, target float64) float64 {
	s.from, s.to, s.since = target/2, target, now
	return s.at(now)
}

// cut sets the share to target at once.
func (s *shaper) cut(now time.Time, target float64) float64 {
	s.from, s.to, s.since = target, target, now
	return target
}

// update moves towards target: at once if it is lower than the share now, else on a
// ramp from the share now (a ramp already heading there carries on).
func (s *shaper) update(now time.Time, target float64) float64 {
	pos := s.at(now)
	switch {
	case target <= pos:
		return s.cut(now, target)
	case target != s.to:
		s.from, s.to, s.since = pos, target, now
	}
	return s.at(now)
}
