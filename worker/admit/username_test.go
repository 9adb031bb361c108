package admit_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/admit"
)

func TestValidateUsername(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "username is empty"},
		{"ascii", "alice", ""},
		{"email", "alice+tag@example.com", ""},
		{"punctuation", `a.b-c_d!e?f#g%h&i*j(k)l[m]n{o}p'q"r,s;t:u/v\w@`, ""},
		{"symbols", "a$b^c`d|e~f<g>h=i+", ""},
		{"emoji", "😀user🎉", ""},
		{"CJK", "ユーザー名", ""},
		{"combining mark", "e\u0301le\u0300ve", ""},
		{"digits only", "0123456789", ""},
		{"128 ascii", strings.Repeat("a", 128), ""},
		{"129 ascii", strings.Repeat("a", 129), "username is 129 characters, more than 128"},
		{"128 two-byte runes", strings.Repeat("é", 128), ""},
		{"129 two-byte runes", strings.Repeat("é", 129), "username is 129 characters, more than 128"},
		{"128 four-byte runes", strings.Repeat("😀", 128), ""},
		{"129 four-byte runes", strings.Repeat("😀", 129), "username is 129 characters, more than 128"},
		{"space inside", "alice smith", "username has a disallowed character U+0020 at byte 5"},
		{"leading space", " alice", "username has a disallowed character U+0020 at byte 0"},
		{"tab", "a\tb", "username has a disallowed character U+0009 at byte 1"},
		{"newline", "a\nb", "username has a disallowed character U+000A at byte 1"},
		{"NUL", "a\x00b", "username has a disallowed character U+0000 at byte 1"},
		{"DEL", "ab\x7f", "username has a disallowed character U+007F at byte 2"},
		{"no-break space", "a\u00a0b", "username has a disallowed character U+00A0 at byte 1"},
		{"zero width space", "a\u200bb", "username has a disallowed character U+200B at byte 1"},
		{"BOM inside", "a\ufeffb", "username has a disallowed character U+FEFF at byte 1"},
		{"byte offset after multibyte", "éé b", "username has a disallowed character U+0020 at byte 4"},
		{"invalid UTF-8", "a\xffb", "username is not valid UTF-8"},
		{"truncated UTF-8", "a\xc3", "username is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, admit.ValidateUsername(tt.in))
		})
	}
}

func TestNormalizeUsername(t *testing.T) {
	t.Parallel()

	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"  alice  ", "alice"},
		{"\t\r\nalice\r\n", "alice"},
		{"\ufeffalice", "alice"},
		{"\ufeff  alice \ufeff", "alice"},
		{"\u00a0alice\u00a0", "alice"},
		{"alice smith", "alice smith"}, // inner space kept: ValidateUsername rejects it
		{"", ""},
		{" \t ", ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, admit.NormalizeUsername(tt.in), "%q", tt.in)
	}
}
