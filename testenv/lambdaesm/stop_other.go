//go:build !unix

package lambdaesm

import "os"

// sigStop: no SIGSTOP here; Env.Freeze says so.
var sigStop os.Signal
