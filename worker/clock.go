package worker

// SystemClock is the real clock, for callers outside the package.
func SystemClock() Clock { return realClock{} }
