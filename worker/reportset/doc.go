// Package reportset reads a campaign's report files back as one campaign — every
// replica's report, a campaign and its resumes, CSV and JSONL mixed — and renders it for
// people and for programs.
//
//	R1.csv ─┐
//	R2.jsonl├─► records.ScanReport (the one line parser) ─► Read: fold per user ─► Set
//	R3.csv ─┘          torn / foreign lines ─► Malformed (file:line, never an error)
//	                                                                             │
//	   Summary (table, --json) ◄──┬──────────────────────────────────────────────┘
//	   WriteUsersCSV (run --csv) ◄┤
//	   WriteHTML (one file) ◄─────┘  Timeline: per-second counts, bucketed
//
// Folding (fold.go): rows are one user's when their usernames compare equal
// case-insensitively, as the run's dedupe compares them (admit.CaseInsensitive). A later
// row supersedes an earlier one, "later" meaning the greater finished_at, then the later
// file on the command line, then the later line; a row without finished_at is earlier
// than any row with one. A `duplicate` row never supersedes a row of another status: it
// only says that another row of the same user came first. Nor do `recently_sent` and
// `unknown` supersede `sent`, whichever is later and whichever file is read first: with
// the ledger table they echo that send (another replica or campaign met its record).
// Statuses are open strings: a status this version does not write (a newer version's)
// is counted as it is written.
package reportset
