package sqssource

import (
	"context"
	"sync"
	"time"
)

// message is one received message.
type message struct {
	id, receipt, body string
	groupID           string
	receiveCount      int
	receivedAt        time.Time
	parsed            MessageBody // a body that is not a job has only Invalid set

	// guarded by inflight.mu
	visibleUntil time.Time
	settled      bool // no extension starts once set
	extending    bool // an extension call including it is in flight
}

// inflight tracks the messages received and not yet settled at the queue: a slot each
// (at most MaxInFlight), and each one's settled / extending / visibleUntil state, which
// the heartbeat, the settler and the jobs' acks share.
//
// Ordering: a message is marked settled before its delete or visibility change is
// queued, and the heartbeat picks a message for extension only if it is not settled,
// marking it extending in the same critical section; the settler sends nothing for a
// message while an extension of it is in flight. So an extension never lands after the
// settling change of the same message (it would undo a release or a backoff).
type inflight struct {
	slots chan struct{} // semaphore: one per held message

	mu   sync.Mutex
	held map[*message]struct{}
}

func newInflight(maxInFlight int) *inflight {
	return &inflight{slots: make(chan struct{}, maxInFlight), held: map[*message]struct{}{}}
}

// reserve waits for a free slot (false if ctx ends first), then takes up to n-1 more
// that are free at once; it returns how many it took.
func (t *inflight) reserve(ctx context.Context, n int) (int, bool) {
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, false
	}
	got := 1
	for got < n {
		select {
		case t.slots <- struct{}{}:
			got++
		default:
			return got, true
		}
	}
	return got, true
}

// unreserve gives back n slots no message came for.
func (t *inflight) unreserve(n int) {
	for range n {
		<-t.slots
	}
}

// hold starts tracking m (its slot is reserved).
func (t *inflight) hold(m *message) {
	t.mu.Lock()
	t.held[m] = struct{}{}
	t.mu.Unlock()
}

// settle marks m settled, so that no extension of it starts; false if it already was.
func (t *inflight) settle(m *message) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m.settled {
		return false
	}
	m.settled = true
	return true
}

// settleAll marks every held message not yet settled and returns them (Close).
func (t *inflight) settleAll() []*message {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*message
	for m := range t.held {
		if !m.settled {
			m.settled = true
			out = append(out, m)
		}
	}
	return out
}

// finish forgets a message that is settled at the queue (or given up on) and frees its
// slot.
func (t *inflight) finish(m *message) {
	t.mu.Lock()
	_, ok := t.held[m]
	delete(t.held, m)
	t.mu.Unlock()
	if ok {
		<-t.slots
	}
}

// len is the number of messages held.
func (t *inflight) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.held)
}

// isExtending reports whether an extension call including m is in flight. Once m is
// settled it can only turn false.
func (t *inflight) isExtending(m *message) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return m.extending
}

// dueForExtension picks up to BatchMax held, unsettled messages not tried yet with less
// than a third of vt left, marks them extending and tried, and returns them with the
// visibility each gets (seconds: vt, within SQS's 12 h since receipt).
func (t *inflight) dueForExtension(now time.Time, vt time.Duration, tried map[*message]bool) ([]*message, []int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var batch []*message
	var secs []int32
	for m := range t.held {
		if len(batch) == BatchMax {
			break
		}
		if m.settled || tried[m] || m.visibleUntil.Sub(now) >= vt/3 {
			continue
		}
		d := min(vt, MaxVisibility-now.Sub(m.receivedAt)-time.Second)
		if d < time.Second {
			continue // SQS allows no more: it comes back (and is redelivered) at 12 h
		}
		m.extending, tried[m] = true, true
		batch = append(batch, m)
		secs = append(secs, int32(d/time.Second))
	}
	return batch, secs
}

// extended ends an extension call: the messages whose entry succeeded (ok) are visible
// until now + their new visibility.
func (t *inflight) extended(batch []*message, secs []int32, ok []bool, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, m := range batch {
		if ok[i] {
			m.visibleUntil = now.Add(time.Duration(secs[i]) * time.Second)
		}
		m.extending = false
	}
}
