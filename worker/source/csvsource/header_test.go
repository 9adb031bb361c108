package csvsource_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
)

// The header rule of a one-column file in auto mode: a first row that is a common
// column name is a header, anything else is the first username.
func TestHeaderRuleFirstRows(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		first  string // the first line as it is in the file
		header bool
	}{
		{"username", true},
		{"Username", true},
		{"email", true},
		{"Email", true},
		{"EMAIL", true},
		{"e-mail", true},
		{"E-Mail", true},
		{"user", true},
		{"USER", true},
		{"user_name", true},
		{"User Name", true},
		{"login", true},
		{"Login", true},
		{"name", true},
		{"sub", true},
		{"id", true},
		{"ID", true},
		{"emails", true},
		{"usernames", true},
		{"user_id", true},
		{"email_address", true},
		{"  Email  ", true},
		{"\tlogin\t", true},
		{`"Email"`, true},
		{`" email "`, true},
		{`'email'`, true},
		{"\ufeffEmail", true},
		{"\ufeff\"Email\"", true},
		{"alice", false},
		{"alice@example.com", false},
		{"emailer", false},
		{"user1", false},
		{"identity", false},
		{"ids-of-users", false},
		{"e", false},
		{"s", false},
		{"🙂", false},
		{"client_metadata.x", false},
	} {
		t.Run(tt.first, func(t *testing.T) {
			t.Parallel()
			src, err := csvsource.New(strings.NewReader(tt.first+"\nbob\n"), csvsource.Options{})
			require.NoError(t, err)
			h := src.Header()
			require.Equal(t, tt.header, h.Present, h.String())
			require.Equal(t, 1, h.Line)
			rows := readAll(t, src)
			if tt.header {
				require.Equal(t, []row{ok("bob", "2")}, rows, "the header is not sent")
				return
			}
			require.Len(t, rows, 2, "the first row is a username")
			require.Equal(t, "1", rows[0].SourceRef)
		})
	}
}

func TestHeaderRuleSaysWhy(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		in   string
		mode csvsource.Header
		want string
	}{
		{"Email\nbob\n", "", `yes (first row "Email" looks like a header: skipped, its column read as usernames; --header no sends it)`},
		{"username\nbob\n", csvsource.HeaderAuto, `yes (line 1 is the "username" column's name)`},
		{"\n\nemail,Username\na,bob\n", csvsource.HeaderAuto, `yes (line 3 has a "username" column)`},
		{"alice\nbob\n", csvsource.HeaderAuto, `no (first row "alice" is not a header word: sent as a username; --header yes skips it)`},
		{"members\nbob\n", csvsource.HeaderYes, `yes (--header yes: the column "members" holds the usernames)`},
		{"Email\nbob\n", csvsource.HeaderNo, `no (--header no: the first row is a username)`},
	} {
		src, err := csvsource.New(strings.NewReader(tt.in), csvsource.Options{Header: tt.mode})
		require.NoError(t, err)
		require.Equal(t, tt.want, src.Header().String(), tt.in)
	}
}

// --header yes and no force the decision; the multi-column rules stay.
func TestHeaderForced(t *testing.T) {
	t.Parallel()

	rows := func(in string, mode csvsource.Header) []row {
		t.Helper()
		src, err := csvsource.New(strings.NewReader(in), csvsource.Options{Header: mode})
		require.NoError(t, err)
		return readAll(t, src)
	}
	require.Equal(t, []row{ok("bob", "2")}, rows("members\nbob\n", csvsource.HeaderYes))
	require.Equal(t, []row{ok("members", "1"), ok("bob", "2")}, rows("members\nbob\n", csvsource.HeaderAuto))
	require.Equal(t, []row{ok("Email", "1"), ok("bob", "2")}, rows("Email\nbob\n", csvsource.HeaderNo))
	require.Equal(t, []row{ok("username", "1"), ok("bob", "2")}, rows("username\nbob\n", csvsource.HeaderNo))
	require.Equal(t, []row{{Username: "bob", SourceRef: "2", MD: map[string]string{"k": "v"}}},
		rows("Username,client_metadata.k\nbob,v\n", csvsource.HeaderYes))

	for _, tt := range []struct {
		in   string
		mode csvsource.Header
		err  string
	}{
		{"email,name\na,b\n", csvsource.HeaderAuto, `the CSV header (line 1) has 2 columns and none is named "username" (or "cognito:username", Cognito's export)`},
		{"email,name\na,b\n", csvsource.HeaderYes, `the CSV header (line 1) has 2 columns and none is named "username" (or "cognito:username", Cognito's export)`},
		{"username,client_metadata.k\nbob,v\n", csvsource.HeaderNo, "--header no: a CSV without a header has one column of usernames, but line 1 has 2 fields"},
		{"alice\n", "maybe", `--header must be auto, yes or no (got "maybe")`},
	} {
		_, err := csvsource.New(strings.NewReader(tt.in), csvsource.Options{Header: tt.mode})
		require.EqualError(t, err, tt.err, tt.in)
	}
	// A header word alone is a header with nothing under it.
	_, err := csvsource.New(strings.NewReader("Email\n\n"), csvsource.Options{})
	require.ErrorIs(t, err, csvsource.ErrNoRows)
	src, err := csvsource.New(strings.NewReader("Email\n"), csvsource.Options{Header: csvsource.HeaderNo})
	require.NoError(t, err)
	require.Equal(t, []row{ok("Email", "1")}, readAll(t, src))
}
