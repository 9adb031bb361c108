package admit

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxUsernameLen is Cognito's limit on a username, in characters.
const MaxUsernameLen = 128

// NormalizeUsername trims surrounding whitespace (including a stray BOM) from raw input.
func NormalizeUsername(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' })
}

// ValidateUsername returns why Cognito would reject u, or "" if it would accept it.
// Cognito's pattern is [\p{L}\p{M}\p{S}\p{N}\p{P}]+, length 1..128.
func ValidateUsername(u string) string {
	if u == "" {
		return "username is empty"
	}
	if !utf8.ValidString(u) {
		return "username is not valid UTF-8"
	}
	if n := utf8.RuneCountInString(u); n > MaxUsernameLen {
		return fmt.Sprintf("username is %d characters, more than %d", n, MaxUsernameLen)
	}
	for i, r := range u {
		if !(unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsSymbol(r) ||
			unicode.IsNumber(r) || unicode.IsPunct(r)) {
			return fmt.Sprintf("username has a disallowed character %U at byte %d", r, i)
		}
	}
	return ""
}

// Printable makes an invalid username safe to put in the report (bounded, valid UTF-8,
// control characters escaped) so the operator can find the row.
func Printable(s string) string {
	const maxLen = 256
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= maxLen {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
