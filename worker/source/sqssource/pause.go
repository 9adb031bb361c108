package sqssource

import (
	"context"
	"time"
)

// Pause stops receiving while this worker can't use what it would receive (Cognito or
// the ledger table not answering): a receive in flight is cancelled, no other starts,
// and every message received but not yet handed out is made visible again (at once, or
// once the cancelled poll has ended at SQS: release.go).
// The receive it cost is its only one: nothing is received again until Resume.
// Messages already handed out are their jobs' to give back (Release). Ready reports
// reason. Pausing a paused source only updates reason.
func (s *Source) Pause(reason string) { s.stopFor(&s.pauseReason, reason, time.Time{}) }

// Idle stops receiving as Pause does, while the worker is well and only waits (the
// daily budget spent until the next window, until): Ready stays nil. The messages
// received but not started are put off until then (their visibility), not made visible
// at once: received again now, each would cost one more receive towards the dead-letter
// queue for nothing. Receiving goes on once neither an Idle nor a Pause holds it (Wake,
// Resume).
func (s *Source) Idle(reason string, until time.Time) { s.stopFor(&s.idleReason, reason, until) }

// Wake receives again after Idle (unless a Pause still holds the source).
func (s *Source) Wake() { s.goOn(&s.idleReason) }

// stopFor sets why (the pause's or the idle's reason) and stops receiving; the messages
// not started are released, or put off until until when it is set.
func (s *Source) stopFor(why *string, reason string, until time.Time) {
	s.pauseMu.Lock()
	*why = reason
	if s.resumed == nil {
		s.resumed = make(chan struct{})
	}
	cancelPoll := s.cancelPoll
	s.pauseMu.Unlock()
	if cancelPoll != nil {
		cancelPoll()
	}
	n := 0
	for {
		select {
		case m := <-s.ready:
			// Through the settler like any release; the slot frees once it is sent.
			if s.putOff(m, until) == nil {
				n++
			}
			continue
		default:
		}
		break
	}
	switch {
	case n > 0 && until.IsZero():
		s.log.Info("not receiving: released the messages not started", "count", n, "reason", reason)
	case n > 0:
		s.log.Info("not receiving: put the messages not started off until then", "count", n, "reason", reason,
			"until", until.UTC().Format(time.RFC3339))
	}
}

// putOff makes m visible again at until (within SQS's 12 h since its receipt), or at once
// when until is zero.
func (s *Source) putOff(m *message, until time.Time) error {
	if until.IsZero() {
		return s.release(m)
	}
	return s.settle(context.WithoutCancel(s.recvCtx), m, opVisibility, s.visibility(m, s.clock.Until(until)), "defer")
}

// release makes m visible again at once, through the settler. Its context is not the
// receive loop's: a release queued as receiving stops must still be sent.
func (s *Source) release(m *message) error {
	return s.settle(context.WithoutCancel(s.recvCtx), m, opVisibility, 0, "release")
}

// Resume receives again after Pause.
func (s *Source) Resume() { s.goOn(&s.pauseReason) }

// goOn clears why, and receives again when nothing else holds the source.
func (s *Source) goOn(why *string) {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	*why = ""
	if s.resumed != nil && s.pauseReason == "" && s.idleReason == "" {
		close(s.resumed)
		s.resumed = nil
	}
}

// paused is why receiving is paused ("" when it is not).
func (s *Source) paused() string {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	return s.pauseReason
}

// holding reports whether a Pause or an Idle holds the source: nothing is received.
func (s *Source) holding() bool {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	return s.pauseReason != "" || s.idleReason != ""
}

// pollContext waits while the source is paused, then returns the context of one receive,
// which Pause cancels; false once receiving has stopped.
func (s *Source) pollContext() (context.Context, context.CancelFunc, bool) {
	for {
		s.pauseMu.Lock()
		resumed := s.resumed
		if resumed == nil {
			ctx, cancel := context.WithCancel(s.recvCtx)
			s.cancelPoll = cancel
			s.pollEnd = s.clock.Now().Add(time.Duration(s.cfg.WaitTimeSeconds) * time.Second)
			s.pauseMu.Unlock()
			return ctx, cancel, true
		}
		s.pauseMu.Unlock()
		select {
		case <-resumed:
		case <-s.recvCtx.Done():
			return nil, nil, false
		}
	}
}
