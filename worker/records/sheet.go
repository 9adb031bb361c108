package records

import "slices"

// The spreadsheet rule. Usernames come from whoever signed up, and Cognito accepts one
// that starts with =, +, - or @; the report CSV and the `report users` list are opened
// in spreadsheets, which run such a cell as a formula (OWASP "CSV injection"). Every
// cell of a CSV written for people is written through SheetCell, and read back through
// SheetValue, exactly.
//
// The rule: a cell that starts with = + - @, a tab, a carriage return, or a single
// quote gets a single quote in front (the OWASP prefix, which spreadsheets show as
// text). Reading back removes a leading single quote only when the character after it
// is one of those: a cell the rule wrote. So a username that itself starts with ' is
// written with a second ' ('' then its name) and read back whole, and every value
// round-trips: SheetValue(SheetCell(v)) == v.

// sheetLead reports whether a value starting with c is written with a leading quote.
func sheetLead(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		return true
	}
	return false
}

// SheetCell is v as a cell of a CSV meant for people: v, or ' and v when v starts with
// a character a spreadsheet would read as a formula (or with ').
func SheetCell(v string) string {
	if v != "" && sheetLead(v[0]) {
		return "'" + v
	}
	return v
}

// SheetValue is the value of a cell SheetCell wrote (any other cell is its own value).
func SheetValue(cell string) string {
	if len(cell) >= 2 && cell[0] == '\'' && sheetLead(cell[1]) {
		return cell[1:]
	}
	return cell
}

// UsersColumns are the columns of the `report users` list (reportset.WriteUsersCSV):
// what `run --csv` reads. The final_status column says which of the statuses asked for
// each user has, and with the username column marks the file as one written for
// people (SheetReader).
var UsersColumns = []string{"username", "final_status"}

// SheetReader returns how to read the cells of a CSV whose header is header: SheetValue
// for a file cognito-resend wrote for people (a CSV report, a `report users` list), nil
// for any other, whose cells are read as written.
func SheetReader(header []string) func(string) string {
	if isHeader(header) || slices.Equal(header, UsersColumns) {
		return SheetValue
	}
	return nil
}
