// Package poolsource is the user-pool source: it lists a pool's UNCONFIRMED users with
// ListUsers (signed: IAM cognito-idp:ListUsers), page by page at its own rate, and yields
// one job per user created inside the optional window, carrying the state the listing
// gave (Job.State: UserStatus and Enabled) so that a disabled user gets its `disabled`
// row from the verify stage (userpool.Judge) without a call.
//
//	ListUsers pages ──► [poolsource] ──► Job{Username, SourceRef: username, State} ──► admit ─► verify …
//
// The first page is fetched before New returns, so a missing permission or a wrong pool
// id is a usage error before any resend. ListUsers calls go through the pacing package
// (a Limiter at --list-rate, pacing.Retry on throttles and faults).
package poolsource
