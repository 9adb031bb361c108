//go:build unix && !linux

package main

import "syscall"

func (c *child) maxRSSKB() int64 {
	if c.cmd.ProcessState == nil {
		return -1
	}
	if ru, ok := c.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss) // KB on Linux
	}
	return -1
}

// watchPeak: the rusage of the ended process is read instead.
func (*child) watchPeak() {}
