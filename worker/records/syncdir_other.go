//go:build !windows

package records

import (
	"errors"
	"os"
)

// syncDir makes renames in dir durable (fsync of the directory).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
