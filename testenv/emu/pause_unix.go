//go:build unix

package emu

import "syscall"

// Pause freezes the emulator (SIGSTOP to its process group): connections stay open and
// requests wait in the kernel, like a server stalled by its host. Resume continues it.
// A test that pauses resumes before Close.
func (s *Server) Pause() { signalGroup(s.cmd, syscall.SIGSTOP) }

// Resume continues a paused emulator (SIGCONT).
func (s *Server) Resume() { signalGroup(s.cmd, syscall.SIGCONT) }
