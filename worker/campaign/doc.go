// Package campaign is the campaign core: it turns a config.Config into a running
// pipeline and says how it ended. cmd/cognito-resend only parses flags, asks, renders
// and maps the Outcome to an exit code.
//
//	config.Config ─► Open ─► Prepare ─► Census (--dry-run, the prompt) ─► Run ─► Outcome
//	                           │          │                               │
//	                           │          └─ resume state, loaded once ───┤
//	                           └─ once: region, case rule, ───────────────┤
//	                              verify stage + its AdminGetUser check   │
//	                                                                      ├─ AWS clients (aws.NopRetryer)
//	                                                                      ├─ source (+ skip what has a row)
//	                                                                      ├─ records: report, ledger, rotation
//	                                                                      ├─ limiter, breaker, resender
//	                                                                      ├─ verifier (its own limiter)
//	                                                                      ├─ engine (unknown rows first)
//	                                                                      ├─ metrics server
//	                                                                      └─ shutdown: hard stop after
//	                                                                         --shutdown-timeout, engine.SettleBudget
//
// A source says whether it redelivers (job.Source.Redelivers, the SQS source): that
// decides which earlier rows make a user final, whether to skip recorded lines, whether
// the run has a total, and whether a stop signal is a normal end. Producer is `enqueue`.
package campaign
