//go:build !unix && !windows

package records

import "os"

// No OS lock on this platform: a second run on the same report is not refused.
func tryLock(*os.File) error { return nil }

func releaseLock(f *os.File, path string) error {
	err := f.Close()
	_ = os.Remove(path)
	return err
}
