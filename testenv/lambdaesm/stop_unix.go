//go:build unix

package lambdaesm

import (
	"os"
	"syscall"
)

// sigStop freezes a process (Env.Freeze).
var sigStop os.Signal = syscall.SIGSTOP
