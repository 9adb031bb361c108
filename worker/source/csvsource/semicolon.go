package csvsource

import (
	"fmt"
	"strings"

	"github.com/cognito-resend/cognito-resend/worker/admit"
)

// The semicolon rule. Excel in many European locales saves "CSV" separated by `;`:
// read with commas, each whole line `demo-user-024;a@b.c;A` is one field, a username
// Cognito accepts (its usernames may hold any punctuation, `;` included), so the run
// would call nobody it meant to. Two cases are refused, no others (a username may
// legally hold `;`):
//   - the first row is one field that splits on `;` into a username column: a header
//     (found at once, standard input included);
//   - every row of a one-column file splits on `;` into the same number ≥ 2 of fields
//     (found at the end of the file: the census reads a file to its end before any
//     call; standard input is not counted first, so there only the header case holds).

// semicolonHeader reports whether field is a header whose `;`-separated names include
// the username column.
func semicolonHeader(field string) bool {
	names := strings.Split(field, ";")
	if len(names) < 2 {
		return false
	}
	for _, n := range names {
		n = strings.Trim(admit.NormalizeUsername(n), `"'`)
		if strings.EqualFold(n, colUsername) || strings.EqualFold(n, colCognitoUsername) {
			return true
		}
	}
	return false
}

// semicolonError is the refusal of a `;`-separated file; sample is a line of it.
func semicolonError(line int, sample string) error {
	return &NotCSVError{What: fmt.Sprintf("looks like a `;`-separated file (line %d is %q, read as one field): "+
		"save it as CSV (comma-separated), or give a one-column file of usernames", line,
		admit.Printable(sample))}
}

// semicolons tracks the `;`-fields of a one-column file's rows: fields is their common
// number so far (0: no row yet, -1: not all the same, or fewer than 2).
type semicolons struct {
	fields int
	line   int
	sample string
}

func (s *semicolons) see(rec []string, line int) {
	if s.fields < 0 {
		return
	}
	n := -1
	if len(rec) == 1 {
		n = strings.Count(rec[0], ";") + 1
	}
	switch {
	case n < 2, s.fields > 0 && n != s.fields:
		s.fields = -1
	case s.fields == 0:
		s.fields, s.line, s.sample = n, line, rec[0]
	}
}

// refused is the error at the end of a file whose every row split the same way.
func (s *semicolons) refused() error {
	if s.fields >= 2 {
		return semicolonError(s.line, s.sample)
	}
	return nil
}
