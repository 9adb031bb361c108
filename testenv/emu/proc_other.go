//go:build !unix

package emu

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

func terminate(cmd *exec.Cmd) { kill(cmd) }

func kill(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// lockFile is a no-op outside unix; concurrent installs are serialised only
// within one process there.
func lockFile(string) (func(), error) { return func() {}, nil }
