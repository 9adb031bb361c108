// Package fleet is coordinated mode (--fleet-rate R): one budget for the whole fleet,
// split among the replicas alive in the ledger table, so that scaling from 1 to 50
// replicas never changes the fleet's total. The adaptive limiter's cuts still apply on
// top of each replica's share.
//
//	every interval I (1 s):   PutItem  pk = fleet#<name>, sk = replica#<id>,
//	                                   alive_until = now + 3 I, fleet_rate = R
//	                          Query    pk = fleet#<name> (consistent): the records whose
//	                                   alive_until is after now are the replicas alive
//	every I/4:                share = min(fleet_rate) ÷ alive  ──► Limiter.SetCeiling
//	                                   lower: at once; higher: a ramp over I
//	join:  first heartbeat + read, hold 1.5 I at a trickle (every replica running counts
//	       the newcomer and cuts), then half the share, rising to it over I
//	leave: DeleteItem (the others take the share at their next read); a killed replica
//	       stops counting 3 I after its last heartbeat
//
// The fleet's rate is the lowest --fleet-rate of the replicas alive: while they differ,
// every replica logs one WARN naming the replica that holds the lowest and exports
// fleet_rate_mismatch = 1 (a replica started with 2 against 12 cuts the whole fleet).
//
// Expiry is judged by the readers from alive_until on their own clock, never from an
// item's absence (TTL deletion is lazy; expires_at, an hour later, only tidies the table).
// A replica whose heartbeat has not landed for the life of its record, or that has not
// read the fleet for as long, can't tell whether the others still count it: they may
// have taken its share, so it paces at a trickle (StrandedFraction of R) until both work
// again, then joins again. A failed read alone keeps the last share meanwhile.
//
// Every call goes through the ledger's retry layer (dynamoledger.Caller: pacing.Retry,
// the client has aws.NopRetryer) and is counted in the ledger metrics (fleet_heartbeat,
// fleet_read, fleet_leave). api.go declares the calls, from which the deploy IAM
// policies are derived; shaper.go is the share over time; member.go the rest.
package fleet
