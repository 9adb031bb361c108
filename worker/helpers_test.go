package worker_test

import (
	"sync"
	"time"

	"github.com/cognito-resend/cognito-resend/worker"
)

// fakeClock is a worker.Clock that only moves when told to.
type fakeClock struct {
	worker.Clock

	mu  sync.Mutex
	now time.Time
}

var _ worker.Clock = (*fakeClock)(nil)

var clockStart = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func newFakeClock() *fakeClock { return &fakeClock{now: clockStart} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
