package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// heapSlackDefault is how much garbage the heap may hold beyond what is live once the
// live heap is big. Go's default (GOGC=100) lets a heap grow to twice its live size
// before it collects; a 10 M-row campaign's live heap is its admit and resume tables
// (~20 bytes a row: docs/memory.md), so it would hold as much again of rows already
// read. The tables hold no pointers, so collecting more often costs little.
const heapSlackDefault = 16 << 20

// paceGC keeps the heap within heapSlackDefault of its live size: after each collection
// it sets the GC percent to slack/live (never above Go's default 100, never below 5), so
// a small heap is collected as usual and a big one before its garbage passes the slack.
// A big heap also gets a soft memory limit two slacks above its live size, so the
// runtime returns the pages it freed (a table's old copy once it grew) to the system
// promptly instead of keeping ~10 % over its goal; it moves with the live heap each
// collection, so it never holds a growing campaign back. GOGC or GOMEMLIMIT in the
// environment leave Go's own pacing alone.
func paceGC(getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		// A cleanup of an object nothing points to runs after the next collection.
		runtime.AddCleanup(new(gcSentinel), func(struct{}) {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				live := sample[0].Value.Uint64()
				pct := gcPercent(live, heapSlackDefault)
				debug.SetGCPercent(pct)
				limit := int64(math.MaxInt64)
				if pct < 100 {
					limit = int64(live + 2*heapSlackDefault)
				}
				debug.SetMemoryLimit(limit)
			}
			arm()
		}, struct{}{})
	}
	arm()
}

// gcSentinel is big enough not to share a block with other small objects (which would
// keep it alive).
type gcSentinel struct{ _ [32]byte }

// gcPercent is the GOGC that lets a heap of live bytes grow by slack before the next
// collection, between 5 and Go's default 100.
func gcPercent(live, slack uint64) int {
	if live == 0 {
		return 100
	}
	return int(min(max(slack*100/live, 5), 100))
}
