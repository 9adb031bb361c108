package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// heapSlackDefault is how much garbage the heap may hold beyond what is live. Go's
// default (GOGC=100) lets a heap grow to twice its live size before it collects; a 10
// M-row campaign's live heap is its admit and resume tables (~20 bytes a row:
// docs/memory.md), so it would hold as much again of rows already read. The tables hold
// no pointers, so collecting more often costs little. A small heap (a campaign's first
// million rows) may use the same slack: Go's default collects a 4 MiB heap each time
// 4 MiB more is allocated (the SDK allocates on every call), which cost a fast campaign
// ~15 % of its CPU (bench line 5: 191-193 → 163-164 µs a job; its peak RSS 33 → 46-50 MB,
// the slack).
const heapSlackDefault = 16 << 20

// paceGC keeps the heap within heapSlackDefault of its live size: after each collection
// it sets the GC percent to slack/live (never below 5), so every heap is collected when
// its garbage reaches the slack: a small one less often than Go's default, a big one
// sooner.
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
// collection, at least 5; Go's default 100 before anything is live.
func gcPercent(live, slack uint64) int {
	if live == 0 {
		return 100
	}
	return int(min(max(slack*100/live, 5), gcPercentMax))
}

// gcPercentMax bounds the percent of a near-empty heap (its goal is the slack anyway).
const gcPercentMax = 100_000
