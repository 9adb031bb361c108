package main

import (
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// os.Interrupt is SIGINT on Unix and Ctrl-C / Ctrl-Break on Windows: with it in the list,
// Ctrl-C stops a campaign the same way everywhere (the SIGINT process tests in
// crash_test.go run it on Unix). SIGTERM is Kubernetes' stop, and a closing console on
// Windows; SIGHUP a closed terminal (TestSIGHUPStopsLikeCtrlC).
func TestStopSignals(t *testing.T) {
	t.Parallel()
	require.Equal(t, []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}, stopSignals)
}
