package worker_test

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cognito-resend/cognito-resend/worker"
)

// skipBug marks a test that demonstrates a known, reported bug. It is skipped so the
// suite stays green until the bug is fixed; set RUN_BUG_TESTS=1 to run it (and see it
// fail).
func skipBug(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("RUN_BUG_TESTS") == "" {
		t.Skip("BUG: " + msg)
	}
}

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
