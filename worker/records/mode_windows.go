//go:build windows

package records

// ModeNote is what an operator should know about the records' file mode on Windows,
// where os.OpenFile's 0600 sets no permission: only the read-only attribute exists, and
// a new file gets the ACL its folder passes on.
const ModeNote = "on Windows the report and ledger are not limited to their owner (mode 0600 " +
	"sets no permission there): they get the permissions of their folder, so keep them in a " +
	"folder only you can read"
