package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// syncProbe measures the disk's synchronous-write latency where the children write
// their reports and ledgers: n appends of one ledger-sized record, each made durable
// (fsync) before the next, as the ledger's group commit does. It returns the median.
// Line 5 runs it before and after its run: jobs per fsync-time (jobs/s × this latency)
// is the number of users one fsync covers, the figure that does not move with the disk.
func syncProbe(dir string, n int) (time.Duration, error) {
	f, err := os.CreateTemp(dir, "sync-probe-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	rec := append(bytes.Repeat([]byte("x"), 120), '\n')
	ds := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if _, err := f.Write(rec); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

// syncProbeWrites is the probe's size: long enough to see the disk, short beside line 5.
const syncProbeWrites = 500

// probeDir is the directory the children write to.
func probeDir(o *options) string { return filepath.Clean(o.tmp) }
