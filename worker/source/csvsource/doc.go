// Package csvsource is the CSV source: a header row with a username column (any case),
// optional user_context_data and client_metadata.<key> columns, or one column of
// usernames; a file or stdin. It streams: memory does not grow with the number of rows.
//
//	CSV rows ──► [csvsource] ──► Job{Username, SourceRef: line number, Invalid: why not} ──► admit …
//
// The header rule (header.go, --header): a first row with a username column is a header;
// so, in a one-column file, is a first row that is a common column name (email, user,
// login, …); --header yes|no forces it. Header says what was decided and why.
//
// Every non-blank line becomes exactly one job, so it gets one report row: a row that
// can't be sent (an empty username, ",,", a malformed row) carries Job.Invalid (admit
// reports it invalid_input); only lines of whitespace are blank. An input that can't be
// a campaign (empty, a header without a username column) is an error up front; one that
// is not a UTF-8 CSV (sniff.go: JSON, a workbook, gzip, UTF-16, a NUL byte, bytes that
// are not UTF-8) is a NotCSVError, up front or as it is read. A file cognito-resend
// wrote for people (Options.Cells: its report, a `report users` list) has its username
// cells read back under the spreadsheet rule.
package csvsource
