// Package csvsource is the CSV source: a header row with a username column (any case),
// optional user_context_data and client_metadata.<key> columns, or one headerless
// column; a file or stdin. It streams: memory does not grow with the number of rows.
//
//	CSV rows ──► [csvsource] ──► Job{Username, SourceRef: line number, Invalid: why not} ──► admit …
//
// Every row becomes exactly one job, so every row gets one report row: a row that can't
// be sent carries Job.Invalid (admit reports it invalid_input). An input that can't be a
// campaign (empty, a header without a username column) is an error up front.
package csvsource
