package pacing_test

import (
	"time"

	"github.com/jonboulle/clockwork"
)

var clockStart = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// newFakeClock is a clock that moves only when the test advances it.
func newFakeClock() *clockwork.FakeClock { return clockwork.NewFakeClockAt(clockStart) }
