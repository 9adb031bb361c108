package records

import (
	"errors"
	"syscall"
)

// isNotSyncable reports fsync errors from pipes and terminals, which cannot be synced.
func isNotSyncable(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
