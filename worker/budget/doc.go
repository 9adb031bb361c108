// Package budget is the daily send budget (--daily-budget, --budget-reset): how many
// messages a campaign (or every campaign sharing a ledger table) may send per window,
// and when the windows begin.
//
//	   window: [reset of day D, reset of day D+1)   (UTC; Schedule.Window: the one rule)
//	                │
//	worker ─ token ─ claim ─► Budget.Take ──► counter: Local (this process, seeded from the
//	                            │  │              report's rows of the window)
//	                            │  │           or the ledger table's one counter item per
//	                            │  │              window (conditional update: never over)
//	                            │  └─ spent: *SpentError{Next}: a CSV or pool campaign stops
//	                            │     (exit 4), a queue worker pauses until Next
//	                            └──► the call; a send that did not happen (released before
//	                                 its call, or a definite non-send) is given back: Give
//
// A send is counted before its call, so a fleet never overshoots; the Cognito daily email
// cap (LimitExceededException "Exceeded daily email limit") is the same stop found the
// hard way, and waits for the same next window.
package budget
