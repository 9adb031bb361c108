//go:build windows

package records

// syncDir does nothing on Windows: a directory can't be fsync'd there (opening one and
// calling Sync fails with "Access is denied" or "The handle is invalid": golang/go#75541;
// hashicorp/raft#242 skips it the same way). NTFS journals its metadata, renames
// included; the files themselves are still fsync'd.
func syncDir(string) error { return nil }
