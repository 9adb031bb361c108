package csvsource_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
)

// row is the comparable part of a Job.
type row struct {
	Username, SourceRef, Invalid, UCD string
	MD                                map[string]string
}

func readAll(t *testing.T, src *csvsource.Source) []row {
	t.Helper()
	var rows []row
	for i := 0; ; i++ {
		require.Less(t, i, 10_000, "source never ends")
		j, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return rows
		}
		require.NoError(t, err)
		require.Nil(t, j.Ack)
		require.Nil(t, j.Release)
		rows = append(rows, row{Username: j.Username, SourceRef: j.SourceRef, Invalid: j.Invalid, UCD: j.UserContextData, MD: j.ClientMetadata})
	}
}

func csvRows(t *testing.T, in string) []row {
	t.Helper()
	src, err := csvsource.New(strings.NewReader(in), csvsource.Options{})
	require.NoError(t, err)
	rows := readAll(t, src)
	require.Equal(t, len(rows), src.Rows)
	// EOF is sticky.
	_, err = src.Next(context.Background())
	require.ErrorIs(t, err, io.EOF)
	return rows
}

func ok(user, ref string) row { return row{Username: user, SourceRef: ref} }

func TestCSVSourceHeader(t *testing.T) {
	t.Parallel()

	for _, h := range []string{"username", "Username", "USERNAME", " UserName ", "\ufeffusername"} {
		t.Run(h, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, []row{ok("alice", "2"), ok("bob", "3")}, csvRows(t, h+"\nalice\nbob\n"))
		})
	}
	t.Run("username not first column", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []row{ok("alice", "2"), ok("bob", "3")},
			csvRows(t, "email,username,name\na@example.com,alice,Alice\nb@example.com,bob,Bob\n"))
	})
	t.Run("no trailing newline", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []row{ok("alice", "2"), ok("bob", "3")}, csvRows(t, "username\nalice\nbob"))
	})
}

func TestCSVSourceBOM(t *testing.T) {
	t.Parallel()

	t.Run("header", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []row{{Username: "alice", SourceRef: "2", MD: map[string]string{"k": "v"}}},
			csvRows(t, "\ufeffusername,client_metadata.k\nalice,v\n"))
	})
	t.Run("headerless", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []row{ok("alice", "1"), ok("bob", "2")}, csvRows(t, "\ufeffalice\nbob\n"))
	})
	t.Run("quoted header", func(t *testing.T) {
		t.Parallel()
		// Spreadsheet exports with "quote all fields" put the BOM before the opening quote.
		require.Equal(t, []row{ok("alice", "2")}, csvRows(t, "\ufeff\"username\"\n\"alice\"\n"))
	})
}

func TestCSVSourceCRLF(t *testing.T) {
	t.Parallel()

	require.Equal(t, []row{ok("alice", "2"), ok("bob", "3")}, csvRows(t, "username\r\nalice\r\nbob\r\n"))
	require.Equal(t, []row{ok("alice", "1"), ok("bob", "2")}, csvRows(t, "alice\r\nbob\r\n"))
}

func TestCSVSourceQuotedFields(t *testing.T) {
	t.Parallel()

	in := "username,client_metadata.note\n" +
		"\"al,ice\",\"multi\nline, with comma\"\n" + // line 2-3
		"\"bo\"\"b\",plain\n" + // line 4
		"\"car\nol\",x\n" + // line 5-6: newline inside a username
		"dave,y\n" // line 7
	require.Equal(t, []row{
		{Username: "al,ice", SourceRef: "2", MD: map[string]string{"note": "multi\nline, with comma"}},
		{Username: `bo"b`, SourceRef: "4", MD: map[string]string{"note": "plain"}},
		{Username: `car\x0aol`, SourceRef: "5", Invalid: "username has a disallowed character U+000A at byte 3"},
		{Username: "dave", SourceRef: "7", MD: map[string]string{"note": "y"}},
	}, csvRows(t, in))
}

func TestCSVSourceBlankLines(t *testing.T) {
	t.Parallel()

	t.Run("with header", func(t *testing.T) {
		t.Parallel()
		in := "\n\nusername\n\nalice\n   \n\t\n \t \nbob\n\n"
		require.Equal(t, []row{ok("alice", "5"), ok("bob", "9")}, csvRows(t, in))
	})
	t.Run("rows of empty fields are not blank", func(t *testing.T) {
		t.Parallel()
		// Every non-blank line gets exactly one row: a line of commas is an empty username.
		in := "username,client_metadata.a\n,\n  ,  \n,x\nalice,1\n,,,\n"
		empty := func(ref string) row { return row{SourceRef: ref, Invalid: "username is empty"} }
		require.Equal(t, []row{empty("2"), empty("3"), empty("4"),
			{Username: "alice", SourceRef: "5", MD: map[string]string{"a": "1"}}, empty("6")}, csvRows(t, in))
	})
	t.Run("quoted empty username", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []row{ok("alice", "1"), {SourceRef: "2", Invalid: "username is empty"}, ok("bob", "4")},
			csvRows(t, "alice\n\"\"\n   \nbob\n"))
		require.Equal(t, []row{{SourceRef: "2", Invalid: "username is empty"}, ok("bob", "3")},
			csvRows(t, "username\n\"\"\nbob\n"))
	})
	t.Run("empty rows before the header are skipped", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []row{{Username: "alice", SourceRef: "4", MD: map[string]string{"a": "1"}}},
			csvRows(t, ",,\n\nusername,client_metadata.a\nalice,1\n"))
	})
	t.Run("headerless", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []row{ok("alice", "2"), ok("bob", "4")}, csvRows(t, "  \nalice\n\t\nbob\n"))
	})
}

func TestCSVSourceTrim(t *testing.T) {
	t.Parallel()

	in := "username,user_context_data\n  alice  ,  ENC  \n\tbob\t,\n\u00a0carol\u00a0,x\n"
	require.Equal(t, []row{
		{Username: "alice", SourceRef: "2", UCD: "ENC"},
		{Username: "bob", SourceRef: "3"},
		{Username: "carol", SourceRef: "4", UCD: "x"},
	}, csvRows(t, in))
}

func TestCSVSourceHeaderless(t *testing.T) {
	t.Parallel()

	t.Run("first row is data", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []row{ok("alice", "1"), ok("bob", "2"), ok("carol", "3")}, csvRows(t, "alice\nbob\ncarol\n"))
	})
	t.Run("single row", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []row{ok("alice", "1")}, csvRows(t, "alice"))
	})
	t.Run("column names are data without header", func(t *testing.T) {
		t.Parallel()
		// A single column that isn't "username" is a username.
		require.Equal(t, []row{ok("user_context_data", "1"), ok("client_metadata.x", "2")},
			csvRows(t, "user_context_data\nclient_metadata.x\n"))
	})
	t.Run("later row with more fields is invalid", func(t *testing.T) {
		t.Parallel()
		rows := csvRows(t, "alice\nbob,extra\ncarol\n")
		require.Equal(t, []row{
			ok("alice", "1"),
			{Username: "bob", SourceRef: "2", Invalid: "row has 2 fields; a headerless CSV must have one column"},
			ok("carol", "3"),
		}, rows)
	})
	t.Run("invalid first row", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []row{
			{Username: "al ice", SourceRef: "1", Invalid: "username has a disallowed character U+0020 at byte 2"},
			ok("bob", "2"),
		}, csvRows(t, "al ice\nbob\n"))
	})
}

func TestCSVSourceBadInput(t *testing.T) {
	t.Parallel()

	t.Run("multi-column header without username", func(t *testing.T) {
		t.Parallel()
		_, err := csvsource.New(strings.NewReader("email,name\na@example.com,A\n"), csvsource.Options{})
		require.EqualError(t, err, `the CSV header (line 1) has 2 columns and none is named "username" (or "cognito:username", Cognito's export)`)
	})
	t.Run("header after blank lines names its line", func(t *testing.T) {
		t.Parallel()
		_, err := csvsource.New(strings.NewReader("\n\nemail,name\n"), csvsource.Options{})
		require.EqualError(t, err, `the CSV header (line 3) has 2 columns and none is named "username" (or "cognito:username", Cognito's export)`)
	})
	for name, in := range map[string]string{
		"empty":                 "",
		"only blank lines":      "\n\r\n  \n\t\n",
		"header only":           "username\n",
		"header only no EOL":    "username",
		"header and blanks":     "username\n\n   \n\t\n",
		"multi-col header only": "username,client_metadata.a\n",
		"BOM only":              "\ufeff",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, err := csvsource.New(strings.NewReader(in), csvsource.Options{})
			require.ErrorIs(t, err, csvsource.ErrNoRows)
			require.Nil(t, src)
		})
	}
	t.Run("unparseable header", func(t *testing.T) {
		t.Parallel()
		_, err := csvsource.New(strings.NewReader("user\"name\nalice\n"), csvsource.Options{})
		require.ErrorContains(t, err, "read CSV header")
		require.ErrorContains(t, err, "bare \"")
	})
}

func TestCSVSourceMetadataAndContext(t *testing.T) {
	t.Parallel()

	in := "Username,Client_Metadata.Campaign,client_metadata.lang,client_metadata.,USER_CONTEXT_DATA,other\n" +
		"alice,spring,en,ignored,ENCODED==,zzz\n" +
		"bob,,fr,,,\n" +
		"carol\n"
	require.Equal(t, []row{
		{Username: "alice", SourceRef: "2", UCD: "ENCODED==", MD: map[string]string{"Campaign": "spring", "lang": "en"}},
		{Username: "bob", SourceRef: "3", MD: map[string]string{"Campaign": "", "lang": "fr"}},
		{Username: "carol", SourceRef: "4"}, // ragged: no metadata columns at all
	}, csvRows(t, in))
}

func TestCSVSourceInvalidMetadataUTF8(t *testing.T) {
	t.Parallel()

	// A file that is not UTF-8 is refused whole (issue 22), metadata included.
	_, err := csvsource.New(strings.NewReader("username,client_metadata.k\nalice,\xff\xfe\nbob,ok\n"), csvsource.Options{})
	require.ErrorContains(t, err, "is not UTF-8 (line 2, byte 33: 0xFF)")
}

func TestCSVSourceRagged(t *testing.T) {
	t.Parallel()

	t.Run("extra and missing fields", func(t *testing.T) {
		t.Parallel()
		in := "username,client_metadata.a\nalice\nbob,1,extra,more\ncarol,2\n"
		require.Equal(t, []row{
			{Username: "alice", SourceRef: "2"},
			{Username: "bob", SourceRef: "3", MD: map[string]string{"a": "1"}},
			{Username: "carol", SourceRef: "4", MD: map[string]string{"a": "2"}},
		}, csvRows(t, in))
	})
	t.Run("row too short for username column", func(t *testing.T) {
		t.Parallel()
		in := "client_metadata.a,username\nx\ny,bob\n"
		require.Equal(t, []row{
			{SourceRef: "2", Invalid: "row has 1 fields, no username column"},
			{Username: "bob", SourceRef: "3", MD: map[string]string{"a": "y"}},
		}, csvRows(t, in))
	})
}

func TestCSVSourceMalformed(t *testing.T) {
	t.Parallel()

	t.Run("stray quote in first data row", func(t *testing.T) {
		t.Parallel()
		rows := csvRows(t, "username\nal\"ice\nbob\ncarol\n")
		require.Equal(t, []row{
			{SourceRef: "2", Invalid: "malformed CSV: bare \" in non-quoted-field"},
			ok("bob", "3"),
			ok("carol", "4"),
		}, rows)
	})
	t.Run("stray quote later", func(t *testing.T) {
		t.Parallel()
		rows := csvRows(t, "username\nalice\nb\"ob\ncarol\n")
		require.Equal(t, []row{
			ok("alice", "2"),
			{SourceRef: "3", Invalid: "malformed CSV: bare \" in non-quoted-field"},
			ok("carol", "4"),
		}, rows)
	})
	t.Run("text after closing quote", func(t *testing.T) {
		t.Parallel()
		rows := csvRows(t, "username\nalice\n\"bo\"b\ncarol\n")
		require.Equal(t, []row{
			ok("alice", "2"),
			{SourceRef: "3", Invalid: "malformed CSV: extraneous or missing \" in quoted-field"},
			ok("carol", "4"),
		}, rows)
	})
	t.Run("headerless stray quote", func(t *testing.T) {
		t.Parallel()
		rows := csvRows(t, "alice\nb\"ob\ncarol\n")
		require.Equal(t, []row{
			ok("alice", "1"),
			{SourceRef: "2", Invalid: "malformed CSV: bare \" in non-quoted-field"},
			ok("carol", "3"),
		}, rows)
	})
}

// failingReader serves r, then fails every read with err (a disk or network error).
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, f.err
	}
	return n, err
}

func TestCSVSourceReadError(t *testing.T) {
	t.Parallel()

	errDisk := errors.New("input/output error")

	t.Run("in header", func(t *testing.T) {
		t.Parallel()
		_, err := csvsource.New(&failingReader{r: strings.NewReader(""), err: errDisk}, csvsource.Options{})
		require.ErrorIs(t, err, errDisk)
	})
	t.Run("after rows", func(t *testing.T) {
		t.Parallel()
		src, err := csvsource.New(&failingReader{r: strings.NewReader("username\nalice\n"), err: errDisk}, csvsource.Options{})
		require.NoError(t, err)
		j, err := src.Next(context.Background())
		require.NoError(t, err)
		require.Equal(t, "alice", j.Username)
		// An I/O error is not a row: it must end the source with that error, not
		// produce invalid_input rows forever.
		for range 3 {
			j, err = src.Next(context.Background())
			if err != nil {
				break
			}
		}
		require.ErrorIs(t, err, errDisk, "got job %+v", j)
	})
}

func TestCSVSourceContext(t *testing.T) {
	t.Parallel()

	src, err := csvsource.New(strings.NewReader("username\nalice\nbob\n"), csvsource.Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = src.Next(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 0, src.Rows)
	// The row wasn't lost.
	require.Equal(t, []row{ok("alice", "2"), ok("bob", "3")}, readAll(t, src))
}

func TestCSVSourceLargeField(t *testing.T) {
	t.Parallel()

	big := strings.Repeat("x", 1<<20)
	in := "username,user_context_data\n" +
		big + ",small\n" + // a 1 MB username: invalid, and bounded in the report
		"alice," + big + "\n" + // a 1 MB context field comes through whole
		"bob,\n"
	src, err := csvsource.New(strings.NewReader(in), csvsource.Options{})
	require.NoError(t, err)

	j, err := src.Next(context.Background())
	require.NoError(t, err)
	require.Equal(t, "username is 1048576 characters, more than 128", j.Invalid)
	require.Equal(t, strings.Repeat("x", 256)+"…", j.Username)
	require.Equal(t, "2", j.SourceRef)

	j, err = src.Next(context.Background())
	require.NoError(t, err)
	require.Empty(t, j.Invalid)
	require.Equal(t, "alice", j.Username)
	require.Len(t, j.UserContextData, 1<<20)
	require.Equal(t, big, j.UserContextData)

	j, err = src.Next(context.Background())
	require.NoError(t, err)
	require.Equal(t, "bob", j.Username)
	require.Equal(t, "4", j.SourceRef)
}

func TestCSVSourceInvalidUsernamePrintable(t *testing.T) {
	t.Parallel()

	rows := csvRows(t, "username\n\"a\x01b\"\n\"e\x7ff\"\n")
	require.Equal(t, []row{
		{Username: `a\x01b`, SourceRef: "2", Invalid: "username has a disallowed character U+0001 at byte 1"},
		{Username: `e\x7ff`, SourceRef: "3", Invalid: "username has a disallowed character U+007F at byte 1"},
	}, rows)
}

// genReader generates "username\nuser000000\n..." without holding it in memory.
type genReader struct {
	n, i int
	buf  []byte
}

func (g *genReader) Read(p []byte) (int, error) {
	if len(g.buf) == 0 {
		if g.i > g.n {
			return 0, io.EOF
		}
		if g.i == 0 {
			g.buf = []byte("username,client_metadata.k\n")
		} else {
			// ~110-byte usernames: retaining 200k of them would cost > 20 MB.
			g.buf = fmt.Appendf(g.buf[:0], "user%06d-%s,v\n", g.i, strings.Repeat("p", 100))
		}
		g.i++
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

func TestCSVSourceMemoryFlat(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("memory test skipped in -short mode")
	}

	const rows = 200_000
	src, err := csvsource.New(&genReader{n: rows}, csvsource.Options{})
	require.NoError(t, err)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := 0
	for {
		j, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if j.Invalid != "" || j.ClientMetadata["k"] != "v" {
			require.Failf(t, "bad row", "%+v", j)
		}
		n++
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(src)

	require.Equal(t, rows, n)
	require.Equal(t, rows, src.Rows)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap growth: %d bytes", growth)
	// Retaining the rows would take > 20 MB; other parallel tests add some noise.
	require.Less(t, growth, int64(12<<20), "heap grew by %d bytes reading %d rows", growth, rows)
}
