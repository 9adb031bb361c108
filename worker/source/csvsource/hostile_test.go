package csvsource

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/stretchr/testify/require"
)

// hostileWant is what a hostile CSV must give: an up-front error, or exactly these rows
// (line → username for valid rows, or "!" + a fragment of the reason for invalid ones).
var hostileWant = map[string]struct {
	err  string
	rows map[string]string
}{
	"bom_crlf.csv":              {rows: map[string]string{"2": "alice", "3": "bob"}},
	"stray_quotes.csv":          {rows: map[string]string{"2": "!bare \"", "3": "!extraneous or missing \""}},
	"quote_mid_file.csv":        {rows: map[string]string{"2": "alice", "3": "!bare \"", "4": "carol", "5": "dave"}},
	"blank_and_space_lines.csv": {rows: map[string]string{"5": "alice", "7": "bob"}},
	"name_129.csv":              {rows: map[string]string{"2": string(bytes.Repeat([]byte("a"), 128)), "3": "!129 characters"}},
	"control_chars.csv":         {rows: map[string]string{"2": "!U+0001", "3": "!U+007F", "4": "!U+001B", "5": "dave"}},
	// Not text: refused whole (issue 22), not read as rows.
	"nul_bytes.csv":               {err: "holds a NUL byte (line 2, byte 11)"},
	"invalid_utf8.csv":            {err: "is not UTF-8 (line 2, byte 9: 0xFF)"},
	"one_mb_line.csv":             {rows: map[string]string{"2": "!1048576 characters", "3": "alice"}},
	"header_without_username.csv": {err: "none is named \"username\""},
	"empty.csv":                   {err: ErrNoRows.Error()},
	"header_only.csv":             {err: ErrNoRows.Error()},
	"only_blank_lines.csv":        {err: ErrNoRows.Error()},
	"ragged_rows.csv":             {rows: map[string]string{"2": "alice", "3": "bob", "4": "carol"}},
	"headerless_multi.csv":        {rows: map[string]string{"1": "alice", "2": "!must have one column", "3": "carol"}},
	"spaces_inside.csv":           {rows: map[string]string{"2": "!U+0020", "3": "bob"}},
	"unicode_names.csv":           {rows: map[string]string{"2": "José", "3": "李雷", "4": "user+tag@example.com", "5": "🙂"}},
	// A one-column file whose first row is a header word: a header, never sent.
	"email_header.csv":       {rows: map[string]string{"2": "ann@example.com", "3": "bob@example.com"}},
	"quoted_header_word.csv": {rows: map[string]string{"2": "alice"}},
	// Every non-blank line gets one row: a line of commas or a quoted "" is an empty username.
	"empty_usernames.csv":         {rows: map[string]string{"2": "alice", "3": "!username is empty", "4": "!username is empty", "5": "!username is empty", "7": "bob", "8": "!username is empty"}},
	"empty_quoted_one_column.csv": {rows: map[string]string{"1": "alice", "2": "!username is empty", "5": "bob"}},
}

func TestHostileCSVCorpus(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/hostile/*.csv")
	require.NoError(t, err)
	require.Len(t, files, len(hostileWant), "every corpus file has an expectation")
	for _, path := range files {
		name := filepath.Base(path)
		want, ok := hostileWant[name]
		require.True(t, ok, name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			src, err := New(f, Options{})
			if want.err != "" {
				require.ErrorContains(t, err, want.err)
				return
			}
			require.NoError(t, err)
			got := map[string]string{}
			for range 1000 {
				j, err := src.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				_, dup := got[j.SourceRef]
				require.False(t, dup, "line %s returned twice", j.SourceRef)
				if j.Invalid != "" {
					got[j.SourceRef] = "!" + j.Invalid
				} else {
					got[j.SourceRef] = j.Username
				}
			}
			require.Len(t, got, len(want.rows))
			for ref, w := range want.rows {
				if w[0] == '!' {
					require.Contains(t, got[ref], w[1:], "line %s", ref)
					require.Equal(t, byte('!'), got[ref][0], "line %s must be invalid", ref)
				} else {
					require.Equal(t, w, got[ref], "line %s", ref)
				}
			}
		})
	}
}

// FuzzCSVSource: any input, under any --header mode, gives an up-front error or a bounded
// stream of jobs, each either valid for Cognito or carrying a reason, at most one a line,
// in line order, none for the header's line.
func FuzzCSVSource(f *testing.F) {
	files, _ := filepath.Glob("testdata/hostile/*.csv")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 4096 {
			f.Add(b, uint8(0))
		}
	}
	f.Add([]byte("username,client_metadata.a,user_context_data\nbob,1,ctx\n"), uint8(0))
	f.Add([]byte("Email\nann@example.com\n,,\n\"\"\n"), uint8(0))
	f.Add([]byte("\"user_name\"\r\nbob\r\n"), uint8(1))
	f.Add([]byte("login\nbob\n"), uint8(2))
	modes := []Header{HeaderAuto, HeaderYes, HeaderNo}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		src, err := New(bytes.NewReader(data), Options{Header: modes[int(mode)%len(modes)]})
		if err != nil {
			return
		}
		h := src.Header()
		last := 0
		for range len(data) + 2 {
			j, err := src.Next(context.Background())
			if errors.Is(err, io.EOF) {
				return
			}
			var nc *NotCSVError
			if errors.As(err, &nc) {
				return // not text: refused as it is read
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			line, err := strconv.Atoi(j.SourceRef)
			if err != nil || line <= last {
				t.Fatalf("source ref %q after line %d: one row per line, in order", j.SourceRef, last)
			}
			if h.Present && line <= h.Line {
				t.Fatalf("row for line %d, the header's (%s)", line, h)
			}
			last = line
			if j.Invalid == "" {
				if reason := admit.ValidateUsername(j.Username); reason != "" {
					t.Fatalf("valid job with invalid username %q: %s", j.Username, reason)
				}
			}
		}
		t.Fatalf("more jobs than input bytes")
	})
}
