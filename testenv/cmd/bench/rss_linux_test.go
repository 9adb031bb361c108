//go:build linux

package main

import "testing"

func TestVmHWM(t *testing.T) {
	t.Parallel()
	status := []byte("Name:\tcognito-resend\nVmPeak:\t 1300000 kB\nVmHWM:\t  200624 kB\nVmRSS:\t  150000 kB\n")
	if got := vmHWM(status); got != 200624 {
		t.Fatalf("vmHWM = %d, want 200624", got)
	}
	if got := vmHWM([]byte("Name:\tzombie\nState:\tZ (zombie)\n")); got != 0 {
		t.Fatalf("vmHWM of a zombie = %d, want 0", got)
	}
}
