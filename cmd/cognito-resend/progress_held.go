package main

import (
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// heldState is what the progress says of users waiting on another owner's claim (the
// ledger table): how many, and the holder waited on longest.
type heldState struct {
	mu     sync.Mutex
	n      int
	oldest job.ClaimVerdict
}

// Held records the users waiting on other owners' claims (campaign.HeldObserver).
func (p *progress) Held(n int, oldest job.ClaimVerdict) {
	p.held.mu.Lock()
	p.held.n, p.held.oldest = n, oldest
	p.held.mu.Unlock()
}

// attrs are the progress line's attributes for them; none while nobody waits.
func (h *heldState) attrs() []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return nil
	}
	return []any{"held_by_others", h.n, "oldest_holder_campaign", h.oldest.Campaign,
		"oldest_holder_replica", h.oldest.Owner, "oldest_holder_lease_until", h.oldest.At.UTC().Format(time.RFC3339)}
}

// count is how many users wait.
func (h *heldState) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}
