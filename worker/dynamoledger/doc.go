// Package dynamoledger is the shared ledger: a DynamoDB table in which every replica,
// source and campaign claims a user before calling Cognito, so that no replica, restart
// or later campaign sends the user a second code.
//
//	engine worker ─► Peek ─── GetItem (consistent), judged like a lost claim, before the rate token
//	  (token in hand) Claim ── PutItem (conditional: rule.go) ──► won ─► call
//	                   │ lost
//	                   └──── GetItem (consistent) ─► SENT within the cooldown → recently_sent row
//	                                                 IN_PROGRESS, live lease  → busy: looked at again in ~1 s
//	                                                 lease ran out / UNKNOWN  → unknown row (--retry-unknown: take over)
//	engine renew loop ─► Renew ── UpdateItem: lease_until (every lease/3 while held)
//	engine writer ─────► Finish ─ UpdateItem: SENT | UNKNOWN | RELEASED   (after the row, before the ack)
//	engine release ────► Release  UpdateItem: RELEASED (no call landed) | UNKNOWN (one may have)
//
// A claim's expiry is decided in the condition from the record's attributes, never from
// whether the item exists (TTL deletion is lazy). One record a user (record.go): key
// pk = "user#<client id>#<lowercased username>", sk = "claim". Every write but the first
// is conditional on this claim's random id, so a retried write recognises its own and a
// stale owner can't overwrite a new one. Every call goes through the project's one retry
// layer (call.go: pacing.Retry, the client has aws.NopRetryer); an error means the table
// can't be written, and the engine stops the campaign rather than call without a claim.
// table.go is `ledger init` (create, wait ACTIVE, TTL) and the start check (a missing
// table is a *MissingError naming table and region: whether `ledger init` is the fix is
// the caller's to say, knowing the other regions the operator named); show.go is
// `ledger show`; list.go `ledger list` (a Scan by state or last outcome); api.go declares
// the calls, from which the deploy IAM policies are derived. Every error names the table
// and its region. A record lives --ledger-retention after its last possible send (at
// least the cooldown: Config.keep), for the people who read it; the claim rule frees a
// user after this run's cooldown whatever the retention.
package dynamoledger
