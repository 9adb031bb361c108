//go:build unix

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
