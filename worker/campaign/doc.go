// Package campaign is the campaign core: it turns a config.Config into a running
// pipeline and says how it ended. cmd/cognito-resend only parses flags, asks, renders
// and maps the Outcome to an exit code.
//
//	config.Config ─► New ─► Prepare ─► Census (--dry-run, the prompt) ─► Run ─► Outcome
//	                           │          │                               │
//	                           │          └─ resume state, loaded once ───┤
//	                           └─ once: Env.Factory (the AWS clients), ───┤
//	                              region, case rule, verify stage +       │
//	                              its AdminGetUser check                  │
//	                                                                      │ assemble: each close pushed on one cleanup stack
//	                                                                      ├─ source (+ skip what has a row)
//	                                                                      ├─ records: report, ledger, rotation
//	                                                                      ├─ limiter, breaker, resender
//	                                                                      ├─ verifier (its own limiter)
//	                                                                      ├─ engine (unknown rows first)
//	                                                                      ├─ fleet membership, metrics server
//	                                                                      └─ drive: the engine; hard stop after
//	                                                                         --shutdown-timeout; then one unwind closes
//	                                                                         the parts in reverse order, under
//	                                                                         engine.SettleBudget
//
// Factory is the seam to AWS (cli/cli's cmdutil.Factory, river's driver): AWSFactory in
// production (cmd wires it), fakes in the unit tests of the campaign's policies.
//
// A source says whether it redelivers (job.Source.Redelivers, the SQS source): that
// decides which earlier rows make a user final, whether to skip recorded lines, whether
// the run has a total, and whether a stop signal is a normal end. Producer is `enqueue`.
package campaign
