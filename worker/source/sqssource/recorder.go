package sqssource

// Recorder counts what the source does with its queue (worker/metrics implements it; a
// nil Config.Metrics records nothing).
type Recorder interface {
	// SQSCall counts one SQS request; errCode is "" when it succeeded (awserr.Label).
	SQSCall(op, errCode string)
	// SQSEntryError counts a failed entry of a batch request.
	SQSEntryError(op, code string)
	// Settled counts n entries settled by action (delete, retry, release, extend, …).
	Settled(action string, n int)
	DLQMove()
	Received(n int)
	// WatchInFlight exports the number of messages held, read when scraped.
	WatchInFlight(f func() int)
}

// noRecorder records nothing.
type noRecorder struct{}

func (noRecorder) SQSCall(string, string)       {}
func (noRecorder) SQSEntryError(string, string) {}
func (noRecorder) Settled(string, int)          {}
func (noRecorder) DLQMove()                     {}
func (noRecorder) Received(int)                 {}
func (noRecorder) WatchInFlight(func() int)     {}
