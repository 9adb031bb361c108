package csvsource_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
)

// readNames reads every job of in, returning the first error (nil at EOF) and the
// usernames read.
func readNames(in io.Reader) ([]string, error) {
	src, err := csvsource.New(in, csvsource.Options{})
	if err != nil {
		return nil, err
	}
	var names []string
	for {
		j, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return names, nil
		}
		if err != nil {
			return names, err
		}
		names = append(names, j.Username)
	}
}

func TestInputThatIsNotACSVIsRefused(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("user-ok\n", 2000) // past the first read
	for name, c := range map[string]struct{ in, want string }{
		"JSON array":         {"[\"alice\", \"bob\"]\n", "looks like JSON: its first character is '['"},
		"JSON after blanks":  {"\ufeff \r\n\t{\"username\":\"alice\"}\n", "looks like JSON: its first character is '{'"},
		"JSON Lines report":  {`{"username":"a","status":"sent"}` + "\n", "a .jsonl report?"},
		"xlsx":               {"PK\x03\x04rest", "looks like a ZIP archive or an .xlsx workbook"},
		"UTF-16":             {"\xFF\xFEu\x00s\x00", "looks like UTF-16"},
		"gzip":               {"\x1F\x8B\x08\x00", "gzip"},
		"NUL late":           {"username\n" + long + "bo\x00b\n", "holds a NUL byte (line 2002, byte 16011)"},
		"Latin-1 late":       {"username\n" + long + "jos\xE9\n", "is not UTF-8 (line 2002, byte 16012: 0xE9)"},
		"cut rune at EOF":    {"username\nbob\n\xE2\x82", "is not UTF-8 (line 3, byte 13: 0xE2)"},
		"overlong/surrogate": {"username\n\xED\xA0\x80\n", "is not UTF-8 (line 2"},
	} {
		for _, slow := range []bool{false, true} {
			var in io.Reader = strings.NewReader(c.in)
			if slow {
				in = iotest.OneByteReader(in) // runes cut across reads
			}
			_, err := readNames(in)
			var nc *csvsource.NotCSVError
			require.ErrorAs(t, err, &nc, "%s (one byte a read: %v)", name, slow)
			require.ErrorContains(t, err, c.want, name)
			require.ErrorContains(t, err, "not a CSV of usernames: ", name)
		}
	}
}

func TestUTF8TextCutAcrossReadsIsRead(t *testing.T) {
	t.Parallel()
	in := "username\nJosé\n李雷\n🙂\n[not-json-here]\n"
	for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in)),
		iotest.HalfReader(bytes.NewReader([]byte(in)))} {
		names, err := readNames(r)
		require.NoError(t, err)
		require.Equal(t, []string{"José", "李雷", "🙂", "[not-json-here]"}, names)
	}
}

// Cognito's user export names its username column cognito:username.
func TestCognitoExportHeader(t *testing.T) {
	t.Parallel()
	in := "name,given_name,email,cognito:mfa_enabled,cognito:username\nAnn,Ann,ann@example.com,false,ann-1\n"
	src, err := csvsource.New(strings.NewReader(in), csvsource.Options{})
	require.NoError(t, err)
	require.Equal(t, `yes (line 1 has a "cognito:username" column)`, src.Header().String())
	j, err := src.Next(context.Background())
	require.NoError(t, err)
	require.Equal(t, "ann-1", j.Username)
	require.Empty(t, j.Invalid)

	src, err = csvsource.New(strings.NewReader("cognito:username\nbob\n"), csvsource.Options{})
	require.NoError(t, err)
	j, err = src.Next(context.Background())
	require.NoError(t, err)
	require.Equal(t, "bob", j.Username)
}

// A file cognito-resend wrote for people (Options.Cells knows its header) has its
// username cells read back under the spreadsheet rule; any other file as written.
func TestCellsOfOurFilesReadBack(t *testing.T) {
	t.Parallel()
	ours := func(h []string) func(string) string {
		if strings.Join(h, ",") == "username,final_status" {
			return func(c string) string { return strings.TrimPrefix(c, "'") }
		}
		return nil
	}
	for in, want := range map[string]string{
		"username,final_status\n'@SUM(1+1),failed\n": "@SUM(1+1)",
		"username,other\n'@SUM(1+1),failed\n":        "'@SUM(1+1)",
		"username\n'@SUM(1+1)\n":                     "'@SUM(1+1)",
	} {
		src, err := csvsource.New(strings.NewReader(in), csvsource.Options{Cells: ours})
		require.NoError(t, err)
		j, err := src.Next(context.Background())
		require.NoError(t, err)
		require.Equal(t, want, j.Username, in)
	}
}

func TestSemicolonSeparatedRefused(t *testing.T) {
	for _, c := range []struct {
		name, in string
		stream   bool
		refused  string // "" accepted
	}{
		{"header", "username;email;name\ndemo-user-024;a@b.c;A\n", false, `line 1 is "username;email;name"`},
		{"header on stdin", "Username;Email\nx;y\n", true, `line 1 is "Username;Email"`},
		{"rows all split alike", "a;b;c\nd;e;f\n", false, `line 1 is "a;b;c"`},
		{"rows all split alike, stdin", "a;b;c\nd;e;f\n", true, ""},
		{"one username with ;", "alice\nbo;b\ncarol\n", false, ""},
		{"counts differ", "a;b\nc;d;e\n", false, ""},
		{"comma CSV", "username,email\nx;1,y\n", false, ""},
		{"header no", "username;email\nx;y\nz\n", false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := csvsource.Options{Stream: c.stream}
			if c.name == "header no" {
				opts.Header = csvsource.HeaderNo
			}
			src, err := csvsource.New(strings.NewReader(c.in), opts)
			for err == nil {
				_, err = src.Next(t.Context())
			}
			if c.refused == "" {
				require.ErrorIs(t, err, io.EOF)
				return
			}
			var nc *csvsource.NotCSVError
			require.ErrorAs(t, err, &nc)
			require.Contains(t, err.Error(), "looks like a `;`-separated file ("+c.refused)
			require.Contains(t, err.Error(), "save it as CSV (comma-separated), or give a one-column file of usernames")
		})
	}
}
