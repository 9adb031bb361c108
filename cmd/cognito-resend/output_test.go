package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// An -o file that already exists, readable by everyone, is replaced whole by a file of
// mode 0600: it holds usernames, and its old mode must not carry over. A write refused
// (the file is one of the reports read) leaves it untouched, and nothing else is left
// beside it.
func TestOutputReplacesAnExistingFileAs0600(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	header := strings.Join([]string{"username", "status", "attempts", "error_code", "error_message", "delivery_medium",
		"destination", "attribute_name", "request_id", "source_ref", "started_at", "finished_at"}, ",")
	report := header + "\nalice,sent,1,,,EMAIL,a***@e***.com,email,req-1,2,2026-12-05T00:00:00Z,2026-12-05T00:00:01Z\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "r.csv"), []byte(report), 0o600))
	pub := filepath.Join(dir, "pub.csv")
	require.NoError(t, os.WriteFile(pub, []byte("hi\n"), 0o644))
	require.NoError(t, os.Chmod(pub, 0o644)) // whatever the umask

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "users", "--status", "sent", "-o", "pub.csv", "r.csv"}, "alice,sent"},
		{[]string{"report", "html", "-o", "pub.csv", "r.csv"}, "<h1>cognito-resend campaign</h1>"},
	} {
		args := tc.args
		require.NoError(t, os.Chmod(pub, 0o644))
		res := runBin(t, dir, baseEnv(""), "", args...)
		require.Equal(t, 0, res.code, "%v: %s", args, res.stderr)
		st, err := os.Stat(pub)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "%v: the old file's mode carried over", args)
		b, err := os.ReadFile(pub)
		require.NoError(t, err)
		require.Contains(t, string(b), tc.want, args)
	}

	res := runBin(t, dir, baseEnv(""), "", "report", "html", "-o", "r.csv", "r.csv")
	require.Equal(t, 2, res.code, res.stderr)
	b, err := os.ReadFile(filepath.Join(dir, "r.csv"))
	require.NoError(t, err)
	require.Equal(t, report, string(b), "a refused -o leaves the file as it was")
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	var left []string
	for _, n := range names {
		left = append(left, n.Name())
	}
	require.ElementsMatch(t, []string{"r.csv", "pub.csv"}, left, "no temporary file left behind")
}
