// Package records is the campaign's durable state: the report (one row per user, the
// outcome) and the ledger beside it (an intent before each first call).
//
//	engine writer ─► Writer.Write / Sync ─► <report>.csv|.jsonl      (outcomes, 0600)
//	engine claimer ─► Ledger.Intend ──────► <report>.ledger           (intents, 0600;
//	                                                                   one fsync a group)
//	--resume ─────► LoadResume ◄── ReadRows (known statuses) ◄─┐
//	report tooling ─► reportset ◄──────────────────────────────┴─ ScanReport ◄─ the one line
//	                                                                parser (statuses open;
//	                                                                ParseLine: known only)
//
// Both files are append-only logs of one-line records (appendlog.go: one open path,
// O_EXCL for a new campaign, torn last line ended on append; one group-commit loop),
// never rewritten in place. FormatForPath is the one check of a report's extension. In
// queue mode a RotatingReport rotates the pair by size. LoadResume reads both back: rows
// that make a user final, lines already done, intents without a row (`unknown`), under
// the supersede rule (ResumeState.Record: the latest row of a line by file order counts;
// --retry-failed calls again the users whose latest row is job.Result.RetryDue).
//
// A report is bound to its input (input.go): <report>.input records what it was made
// from (a CSV's path, size and SHA-256; the pool id; the queue URL), and
// ResumeState.Matches checks each line against the username of its rows, so a resume
// with another or an edited CSV can't skip users by line number. A CSV report is
// spreadsheet-safe (sheet.go): SheetCell on write, SheetValue in the line parser.
// ReportsOf finds the reports of an input (a run without --report that would repeat
// one); ReportAsInput refuses a report given as a list of users. One run at a time holds
// a report (lock.go: an OS lock on <report>.lock, which dies with its process).
package records
