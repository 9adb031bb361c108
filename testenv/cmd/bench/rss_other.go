//go:build !unix

package main

// maxRSSKB is unknown where the process state carries no syscall.Rusage (Windows).
func (c *child) maxRSSKB() int64 { return -1 }

func (*child) watchPeak() {}
