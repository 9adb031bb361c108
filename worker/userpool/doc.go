// Package userpool is what the campaign reads of the user pool (--user-pool-id): every
// ListUsers call (Lister: the pool source's listing, the --verify-users census and
// lookups, under the process's one --list-rate limiter), each user's state before the
// resend (Verifier) and the pool's username case rule (DescribeUserPool). All are signed
// calls: IAM cognito-idp:ListUsers, cognito-idp:DescribeUserPool, and
// cognito-idp:AdminGetUser with --verify-with admin-get-user — which makes each user it
// reads a billed monthly active user; ListUsers does not.
//
//	admit ──► [Verifier: State known (the listing)? Judge it
//	                 : placed by the Census (one listing of the pool, hashes only)? Judge it
//	                 : Lister lookup (ListUsers, username = "…") ─► Judge   (default)
//	                 : AdminGetUser ─► Judge                                (--verify-with admin-get-user)]
//	                 │        every call a cognito.Call (the resender's attempt loop, go-retry)
//	                 │        ListUsers: the --list-rate limiter; AdminGetUser: its own (--verify-rate)
//	                 └─► user_not_found / already_confirmed / disabled / not_eligible row, no resend  ──► claim ─► limiter ─► resender
//
// Why: with PreventUserExistenceErrors (on for app clients created in the console)
// Cognito answers ResendConfirmationCode for an unknown or disabled user with a simulated
// CodeDeliveryDetails, so a `sent` row alone proves nothing was delivered. Judge is the
// one eligibility rule, for what any of these says and for what the pool source listed:
// only an UNCONFIRMED, enabled user goes on to the resend.
//
// ResolveCase reads UsernameConfiguration.CaseSensitive once at the start; the dedupe
// (admit.Case), the resume sets and the summary follow the rule it returns.
package userpool
