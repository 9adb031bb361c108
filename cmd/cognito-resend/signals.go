package main

import (
	"os"
	"syscall"
)

// stopSignals stop a campaign: the first soft, the second hard (main.go).
//
// Unix: SIGINT (Ctrl-C), SIGTERM (kill, Kubernetes, ECS, systemd) and SIGHUP (the
// terminal closed, an SSH session dropped: without it the default action killed the
// run outright, no summary, its calls in flight `unknown`).
//
// Windows: Ctrl-C and Ctrl-Break arrive as os.Interrupt, so they stop a campaign exactly
// as SIGINT does. Closing the console window, logging off and shutting down arrive as
// syscall.SIGTERM (os/signal: CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT),
// but Windows ends the process a few seconds later whatever it is doing: the soft stop
// starts, and rows already written are durable; calls still in flight then show up as
// `unknown` on --resume. `taskkill /F` is kill -9.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
