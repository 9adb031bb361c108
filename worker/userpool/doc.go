// Package userpool is what the campaign reads of the user pool (--user-pool-id) besides
// its listing: each user's state before the resend (--verify-users, AdminGetUser) and the
// pool's username case rule (DescribeUserPool). Both are signed calls: IAM
// cognito-idp:AdminGetUser and cognito-idp:DescribeUserPool.
//
//	admit ──► [Verifier: State known? Judge it : AdminGetUser ─► Judge] ──► claim ─► limiter ─► resender
//	                 │        own Limiter (--verify-rate), own Breaker,
//	                 │        cognito.Call (the resender's attempt loop, go-retry)
//	                 └─► user_not_found / already_confirmed / disabled / not_eligible row, no resend
//
// Why: with PreventUserExistenceErrors (on for app clients created in the console)
// Cognito answers ResendConfirmationCode for an unknown or disabled user with a simulated
// CodeDeliveryDetails, so a `sent` row alone proves nothing was delivered. Judge is the
// one eligibility rule, for what AdminGetUser says and for what the pool source listed:
// only an UNCONFIRMED, enabled user goes on to the resend.
//
// ResolveCase reads UsernameConfiguration.CaseSensitive once at the start; the dedupe
// (admit.Case), the resume sets and the summary follow the rule it returns.
package userpool
