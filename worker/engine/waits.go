package engine

import (
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// waits tracks the jobs whose users another live owner holds (Busy verdicts), so the
// log and progress can say how many wait and on whom: the holder waited on longest.
type waits struct {
	mu sync.Mutex
	by map[string]heldBy // source ref → its holder
}

type heldBy struct {
	v     job.ClaimVerdict
	since time.Time
}

func newWaits() *waits { return &waits{by: map[string]heldBy{}} }

// add records that ref's user is held as v; first is true when ref was not waiting yet.
func (w *waits) add(ref string, v job.ClaimVerdict, now time.Time) (first bool, n int, oldest job.ClaimVerdict) {
	w.mu.Lock()
	h, ok := w.by[ref]
	if !ok {
		h.since = now
	}
	h.v = v
	w.by[ref] = h
	w.mu.Unlock()
	n, oldest = w.oldest()
	return !ok, n, oldest
}

// done forgets ref (it was settled, claimed or given back); true if it was waiting.
func (w *waits) done(ref string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.by[ref]
	delete(w.by, ref)
	return ok
}

// oldest is how many wait, and the holder of the one waiting longest.
func (w *waits) oldest() (int, job.ClaimVerdict) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var o heldBy
	for _, h := range w.by {
		if o.since.IsZero() || h.since.Before(o.since) {
			o = h
		}
	}
	return len(w.by), o.v
}
