// Package pacing keeps the campaign inside the quota: every ResendConfirmationCode
// attempt, retries included, waits on the one shared Limiter; the Breaker pauses it
// through an outage; Policy is the one backoff schedule, for retried calls (Retry:
// go-retry) and for loops that schedule their next try (Delay). A call with a quota of
// its own (ListUsers, AdminGetUser) waits on a Limiter of its own, never on the resend's.
//
//	admit ──► verify ──► claim ──► [Limiter.Wait ◄─ Breaker (faults) ◄─ Observe (answers)] ──► resender
//	                                   ▲                                             │
//	                     SetCeiling (a fleet budget)    Retry(Policy) around each call ┘
//
// limiter.go is the token bucket (golang.org/x/time/rate on the clock), the pause and the
// ceiling; adaptive.go is the controller that steers the rate by Cognito's answers
// towards a small throttled fraction, so any number of uncoordinated processes on one
// quota converge, and keeps --reserve free; window.go counts its answers by start time.
// breaker.go pauses the pool through an outage, logs each trip with the endpoint and the
// error, and gives up (OutageError, the campaign stops) after MaxOutage without an
// answer, or at once on a host name that never resolved. Retry retries an attempt marked
// RetryableUncounted (it never reached the service) without spending one of
// Policy.Attempts. The XxxDefault constants are the defaults of the matching flags.
package pacing
