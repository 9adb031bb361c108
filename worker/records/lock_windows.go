//go:build windows

package records

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

func tryLock(f *os.File) error {
	// One byte far past the end: a lock on the holder's line would keep others from
	// reading who holds it.
	ol := &windows.Overlapped{OffsetHigh: 1}
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errLocked
	}
	return err
}

// releaseLock unlocks by closing, then removes the file if no other process has it open
// (Windows refuses to remove an open file; it stays, unlocked, for the next run).
func releaseLock(f *os.File, path string) error {
	err := f.Close()
	_ = os.Remove(path)
	return err
}
