package csvsource

import (
	"fmt"
	"strings"

	"github.com/cognito-resend/cognito-resend/worker/admit"
)

// Header is --header: whether the first row of a CSV is a header.
type Header string

const (
	// HeaderAuto: a first row with a `username` column is a header; so is the first row
	// of a one-column file that is a common header word (HeaderWord). The default.
	HeaderAuto Header = "auto"
	// HeaderYes: the first row is a header. A one-column header of any name names the
	// usernames; a multi-column one needs a `username` column.
	HeaderYes Header = "yes"
	// HeaderNo: there is no header: one column of usernames, from the first row on.
	HeaderNo Header = "no"

	// HeaderDefault is --header when not given.
	HeaderDefault = HeaderAuto
)

// Valid reports whether h is auto, yes or no ("" is auto).
func (h Header) Valid() bool {
	switch h {
	case "", HeaderAuto, HeaderYes, HeaderNo:
		return true
	}
	return false
}

// headerWords are the first rows of a one-column file that mean "this is a header", not
// a user: what spreadsheets and exports name a column of users, compared without case,
// separators (e-mail, user_name, "User Name") or a plural s. None is a plausible
// username, and sending one calls Cognito for a user who doesn't exist.
var headerWords = map[string]bool{
	"username": true, "user": true, "login": true, "name": true, "email": true,
	"sub": true, "id": true, "userid": true, "emailaddress": true, "phone": true, "phonenumber": true,
}

// HeaderWord reports whether a one-column file's first field s is a header rather than a
// username: a common column name (email, e-mail, user, user_name, username, login, name,
// sub, id, …) in any case, trimmed, with or without quotes.
func HeaderWord(s string) bool {
	w := strings.ToLower(admit.NormalizeUsername(s))
	if len(w) >= 2 && (w[0] == '"' || w[0] == '\'') && w[len(w)-1] == w[0] {
		w = w[1 : len(w)-1]
	}
	w = strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.TrimSpace(w))
	return headerWords[w] || (strings.HasSuffix(w, "s") && headerWords[strings.TrimSuffix(w, "s")])
}

// HeaderInfo is what the source decided about the first row, for the operator: the
// census prints it, the run logs it.
type HeaderInfo struct {
	Present bool
	Line    int    // the first non-blank row's line
	Reason  string // why, in a few words
}

// Verdict is "yes" or "no".
func (h HeaderInfo) Verdict() string {
	if h.Present {
		return "yes"
	}
	return "no"
}

// String is the verdict and its reason: yes (first row "Email" looks like a header; …).
func (h HeaderInfo) String() string { return h.Verdict() + " (" + h.Reason + ")" }

// decideHeader applies the header rule to the first non-blank row. For a header it
// returns the column of usernames; err is for a first row that can't start a campaign.
func decideHeader(mode Header, first []string, line int) (info HeaderInfo, userCol int, err error) {
	info.Line = line
	userCol = -1
	for _, name := range []string{colUsername, colCognitoUsername} {
		for i, f := range first {
			if userCol < 0 && strings.EqualFold(admit.NormalizeUsername(f), name) {
				userCol = i
			}
		}
	}
	quoted := fmt.Sprintf("%q", admit.Printable(admit.NormalizeUsername(first[0])))
	switch {
	case len(first) > 1 && mode == HeaderNo:
		return info, 0, fmt.Errorf("--header no: a CSV without a header has one column of usernames, but line %d has %d fields", line, len(first))
	case len(first) > 1 && userCol < 0:
		return info, 0, fmt.Errorf("the CSV header (line %d) has %d columns and none is named %q (or %q, Cognito's export)",
			line, len(first), colUsername, colCognitoUsername)
	case len(first) > 1:
		info.Present, info.Reason = true, fmt.Sprintf("line %d has a %q column", line, colName(first[userCol]))
		return info, userCol, nil
	case mode == HeaderNo:
		info.Reason = "--header no: the first row is a username"
	case userCol == 0:
		info.Present, info.Reason = true, fmt.Sprintf("line %d is the %q column's name", line, colName(first[0]))
	case mode == HeaderYes:
		info.Present, info.Reason = true, fmt.Sprintf("--header yes: the column %s holds the usernames", quoted)
	case HeaderWord(first[0]):
		info.Present, info.Reason = true, fmt.Sprintf("first row %s looks like a header: skipped, its column read as usernames; "+
			"--header no sends it", quoted)
	default:
		info.Reason = fmt.Sprintf("first row %s is not a header word: sent as a username; --header yes skips it", quoted)
	}
	return info, 0, nil
}

// colName is the name of the username column a header field matched, as we spell it.
func colName(field string) string {
	if strings.EqualFold(admit.NormalizeUsername(field), colCognitoUsername) {
		return colCognitoUsername
	}
	return colUsername
}
