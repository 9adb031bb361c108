package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// An -o file is written new, mode 0600 (it holds usernames), and never over a file
// already there (trial 4, finding 7: report users -o over an earlier retry list replaced
// it, rc 0): exit 2 like ledger export, the file left as it was. A write refused (the
// file is one of the reports read) leaves it untouched too, and nothing else is left
// beside it.
func TestOutputNeverOverwritesAndIs0600(t *testing.T) {
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
		verb, out, want string
		args            []string
	}{
		{"users", "new.csv", "alice,sent", []string{"report", "users", "--status", "sent", "r.csv", "-o"}},
		{"html", "new.html", "<h1>cognito-resend campaign</h1>", []string{"report", "html", "r.csv", "-o"}},
	} {
		res := runBin(t, dir, baseEnv(""), "", append(tc.args, "pub.csv")...)
		require.Equal(t, 2, res.code, "%v: %s", tc.args, res.stderr)
		require.Equal(t, "cognito-resend: -o pub.csv already exists: report "+tc.verb+" never overwrites a file; "+
			"choose another -o (or move that file away)\n", res.stderr)
		b, err := os.ReadFile(pub)
		require.NoError(t, err)
		require.Equal(t, "hi\n", string(b), "%v: the file is left as it was", tc.args)

		res = runBin(t, dir, baseEnv(""), "", append(tc.args, tc.out)...)
		require.Equal(t, 0, res.code, "%v: %s", tc.args, res.stderr)
		st, err := os.Stat(filepath.Join(dir, tc.out))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), tc.args)
		b, err = os.ReadFile(filepath.Join(dir, tc.out))
		require.NoError(t, err)
		require.Contains(t, string(b), tc.want, tc.args)
	}

	res := runBin(t, dir, baseEnv(""), "", "report", "html", "-o", "r.csv", "r.csv")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "-o r.csv is one of the reports being read")
	b, err := os.ReadFile(filepath.Join(dir, "r.csv"))
	require.NoError(t, err)
	require.Equal(t, report, string(b), "a refused -o leaves the file as it was")
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	var left []string
	for _, n := range names {
		left = append(left, n.Name())
	}
	require.ElementsMatch(t, []string{"r.csv", "pub.csv", "new.csv", "new.html"}, left, "no temporary file left behind")
}
