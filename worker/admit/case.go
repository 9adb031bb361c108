package admit

import "strings"

// Case is how usernames compare: the rule behind dedupe, the resume sets and the FIFO
// deduplication id of enqueued messages.
type Case int

const (
	// CaseInsensitive: alice and ALICE are one user, as in user pools created since 2020
	// (UsernameConfiguration.CaseSensitive=false). The default.
	CaseInsensitive Case = iota
	// CaseSensitive: keys compare exactly (pools created case sensitive; source refs).
	CaseSensitive
)

// Key is the form of s under which two strings that are one key compare equal.
func (c Case) Key(s string) string {
	if c == CaseSensitive {
		return s
	}
	return strings.ToLower(s)
}
