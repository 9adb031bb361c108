// Package poolsource is the user-pool source. A pool is listed once: List lists the
// users in a set of states (UNCONFIRMED; the states Judge may message) through the
// campaign's userpool.Lister — every ListUsers a cognito.Call under the process's one
// ListUsers limiter (--list-rate), with the breaker and the one retry helper — into a
// snapshot file beside the report (SnapshotPath: <report>.pool), keeping the users
// created inside the optional window. The census (the prompt, --dry-run, the progress
// total) counts from that file, the run consumes it, and --resume reads it back instead
// of listing again.
//
//	ListUsers pages ──► List ──► <report>.pool ──► Source ──► Job{Username, SourceRef: username, State} ──► admit ─► verify …
//	                                  └──► census (counted from the same file)
//
// Each job carries the state the listing gave (Job.State: UserStatus and Enabled), so a
// disabled user gets its `disabled` row from the verify stage (userpool.Judge) without a
// call. The snapshot ends with a trailer counting its users; Check tells a complete file
// from one cut short (ErrIncomplete).
package poolsource
