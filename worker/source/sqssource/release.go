package sqssource

import "time"

// releaseVisibility is the visibility a released message gets as its change is sent: 0
// (visible at once), unless a receive of this source may be waiting at SQS. A long poll
// cancelled here (a stop, a pause) is not cancelled there: SQS keeps it until its
// WaitTimeSeconds end and hands it every message that turns visible meanwhile, to a
// connection nobody reads. Released at once, the messages would go to that dead poll,
// invisible for a whole visibility timeout, each with one more receive counted towards
// the dead-letter queue (the SRE trial: a daily-cap stop left 6 of 10 messages
// invisible, and a crash loop moved them all to the DLQ). So they stay invisible until
// that poll has ended (at most WaitTimeSeconds + 1 s), and no receive of ours takes
// them. (A poll that is not cancelled would hand them back here: no harm but a receive.)
func (s *Source) releaseVisibility() int32 {
	s.pauseMu.Lock()
	end := s.pollEnd
	s.pauseMu.Unlock()
	left := s.clock.Until(end)
	if end.IsZero() || left <= 0 {
		return 0
	}
	return int32((left+time.Second-1)/time.Second) + 1
}

// pollAnswered records that SQS answered the latest receive: nothing of ours waits there.
func (s *Source) pollAnswered() {
	s.pauseMu.Lock()
	s.pollEnd = time.Time{}
	s.pauseMu.Unlock()
}
