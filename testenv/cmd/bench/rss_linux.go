//go:build linux

package main

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// On Linux a child's rusage maxrss is no measure of the child: os/exec starts it with
// vfork (CLONE_VM), and exec records the high-water mark of the memory it leaves — the
// bench's own, at that moment — in the child's maxrss. A 10 M-row dry run measured
// 332 MB that way after line 6 had grown the bench; the process itself peaked at 196 MB.
// So the child's own high-water mark (VmHWM, of the memory exec gave it) is read from
// /proc while it runs.

// watchPeak polls the child's VmHWM until it ends (the mark only grows: a poll every
// 20 ms misses at most the child's last 20 ms).
func (c *child) watchPeak() {
	path := "/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/status"
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			if kb := vmHWM(b); kb > c.peakKB.Load() {
				c.peakKB.Store(kb)
			}
		}
		select {
		case <-c.done:
			return
		case <-t.C:
		}
	}
}

// vmHWM is the VmHWM line of /proc/<pid>/status, in kB (0: none).
func vmHWM(status []byte) int64 {
	for _, line := range bytes.Split(status, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			n, _ := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
			return n
		}
	}
	return 0
}

// maxRSSKB is the child's peak resident set, kB (-1: never read).
func (c *child) maxRSSKB() int64 {
	if kb := c.peakKB.Load(); kb > 0 {
		return kb
	}
	return -1
}
