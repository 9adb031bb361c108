package csvsource

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// The input rule: a CSV of usernames is UTF-8 text. Anything else — JSON, a workbook,
// UTF-16, a file with NUL bytes or in another encoding — is refused before any call
// rather than read as rows: encoding/csv reads "[" of a JSON array as a username, and
// with PreventUserExistenceErrors Cognito answers such a "user" as sent.

// NotCSVError is an input that is not a CSV of usernames; it says what it looks like.
type NotCSVError struct {
	What string // "looks like JSON (its first character is '[')", …
}

func (e *NotCSVError) Error() string {
	return "not a CSV of usernames: " + e.What + "; give a UTF-8 CSV with one username a line or a username column"
}

// headLen is how much of the start textReader keeps to name a file by its magic number.
const headLen = 8

// sniff returns a reader that refuses, as it is read (the census reads a file to its
// end before any call), an input whose first non-blank character opens JSON, a NUL
// byte or bytes that are not UTF-8 — naming a workbook, gzip or UTF-16 by their magic
// numbers. It never waits for more input than the CSV reader asks for: standard input
// may be a pipe that stays open.
func sniff(r io.Reader) io.Reader { return &textReader{r: r, line: 1} }

// looksLike names a binary format by the first bytes of the input ("" if none).
func looksLike(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\xFF\xFE")), bytes.HasPrefix(head, []byte("\xFE\xFF")):
		return "looks like UTF-16 text (a byte-order mark FF FE or FE FF); save it as \"CSV UTF-8\""
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "looks like a ZIP archive or an .xlsx workbook; export the sheet as CSV UTF-8"
	case bytes.HasPrefix(head, []byte("\x1F\x8B")):
		return "looks like a gzip file; decompress it first"
	}
	return ""
}

// textReader passes UTF-8 text through and fails at the first NUL byte or invalid UTF-8
// sequence, naming its line and byte offset.
type textReader struct {
	r       io.Reader
	line    int    // line of the next byte, from 1
	off     int64  // offset of the next byte
	carry   []byte // the start of a rune cut by the previous read
	head    []byte // the first headLen bytes
	started bool   // a non-blank byte was seen
	err     error
}

func (t *textReader) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.r.Read(p)
	if cerr := t.check(p[:n], err != nil); cerr != nil {
		t.err = cerr
		return 0, cerr
	}
	return n, err
}

// check scans b (after the carried start of a rune); end: no more input follows.
func (t *textReader) check(b []byte, end bool) error {
	buf := b
	start := t.off - int64(len(t.carry))
	if len(t.carry) > 0 {
		buf = append(t.carry, b...)
		t.carry = nil
	}
	if len(t.head) < headLen && len(b) > 0 {
		t.head = append(t.head, b[:min(len(b), headLen-len(t.head))]...)
		if what := looksLike(t.head); what != "" {
			return &NotCSVError{What: what}
		}
	}
	for i := 0; i < len(buf); {
		c := buf[i]
		if !t.started && c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			t.started = true
			if c == '[' || c == '{' {
				what := "a JSON array"
				if c == '{' {
					what = "a JSON object or JSON Lines (a .jsonl report?)"
				}
				return &NotCSVError{What: fmt.Sprintf("looks like JSON: its first character is '%c', %s", c, what)}
			}
		}
		switch {
		case c == 0:
			if what := looksLike(t.head); what != "" {
				return &NotCSVError{What: what}
			}
			return &NotCSVError{What: fmt.Sprintf("holds a NUL byte (line %d, byte %d): looks like a binary file "+
				"(a workbook, a UTF-16 export?)", t.line, start+int64(i))}
		case c < utf8.RuneSelf:
			if c == '\n' {
				t.line++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(buf[i:])
		if r == utf8.RuneError && size <= 1 {
			if !end && !utf8.FullRune(buf[i:]) {
				t.carry = append([]byte(nil), buf[i:]...) // completed by the next read
				break
			}
			if what := looksLike(t.head); what != "" {
				return &NotCSVError{What: what}
			}
			return &NotCSVError{What: fmt.Sprintf("is not UTF-8 (line %d, byte %d: 0x%02X): looks like Latin-1 or "+
				"Windows-1252 text; save it as \"CSV UTF-8\"", t.line, start+int64(i), c)}
		}
		i += size
	}
	t.off += int64(len(b))
	return nil
}
