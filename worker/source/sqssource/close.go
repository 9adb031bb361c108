package sqssource

import (
	"context"
	"fmt"
)

// Close stops receiving and the heartbeat, makes every message received but not
// settled visible again (visibility 0), flushes queued deletes and visibility changes,
// and waits for the loops to end (or ctx).
func (s *Source) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.stopReceiving()
		select {
		case <-s.recvDone:
		case <-ctx.Done():
		}
		s.hbCancel()
		select {
		case <-s.hbDone:
		case <-ctx.Done():
		}
		rel := s.held.settleAll()
		if len(rel) > 0 {
			s.log.Info("releasing messages not started", "count", len(rel))
		}
		for _, m := range rel {
			if err := s.send(ctx, op{kind: opVisibility, msg: m, timeout: 0, action: "release"}); err != nil {
				s.closeErr = err
			}
		}
		close(s.settlerStop)
		select {
		case <-s.settlerDone:
		case <-ctx.Done():
			s.closeErr = fmt.Errorf("sqs: close: %w", ctx.Err())
		}
		// Every message received here is settled at the queue by now (deleted, or its
		// visibility set): any left in the tracker was not, and comes back only when its
		// visibility runs out, with one more receive counted.
		if n := s.held.len(); n > 0 {
			s.log.Error("messages not released: they reappear when their visibility runs out", "count", n)
		}
	})
	return s.closeErr
}
