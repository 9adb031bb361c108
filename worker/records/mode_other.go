//go:build !windows

package records

// ModeNote is what an operator should know about the records' file mode (0600) on this
// platform: nothing where the mode is enforced.
const ModeNote = ""
