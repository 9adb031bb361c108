// Package admit is the pipeline's first gate: what a source yields becomes a Cognito call
// only if it is a valid username whose user has no row yet.
//
//	Source ──► [admit: valid? new user?] ──► verify ──► claim (ledger) ──► limiter ──► resender
//	                 │
//	                 └─► invalid_input / duplicate row, no call
//
// NormalizeUsername and ValidateUsername are Cognito's input rules, used by every source
// as it parses; Printable escapes a rejected username for the report. Set is the compact
// key set (a 64-bit hash and a 32-bit tag per key in sharded open-addressing tables) behind
// dedupe and resume: the tag is how a duplicate row names its first line (RefTag);
// Case says how keys compare. Admitter applies the rule for the engine, the census and
// enqueue alike: there is no other copy of it.
package admit
