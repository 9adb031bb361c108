package lambdasource

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// bodyExcerptMax bounds the excerpt of a body in a log line: enough to recognise what a
// producer sent, not a whole (up to 256 KiB) message.
const bodyExcerptMax = 120

// bodyExcerpt is a message body as a log line shows it when it yielded no username:
// at most bodyExcerptMax runes, control and invalid bytes replaced by '?', with "…"
// when cut. The JSON log handler quotes the rest.
func bodyExcerpt(body string) string {
	var b strings.Builder
	n := 0
	for _, r := range body {
		if n == bodyExcerptMax {
			return b.String() + "…"
		}
		if r == utf8.RuneError || unicode.IsControl(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
