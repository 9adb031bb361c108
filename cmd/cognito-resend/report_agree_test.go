package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// `report summary` of a run's own report says what the run's summary said: the case
// rule its dedupe followed, the duplicate rows it wrote, and no ledger-export caveat on
// a plain CSV report (trial 4: "compared case-sensitively", "duplicate 0", "a ledger
// export keeps one row a user" — the CSV report's input record had lost the rule).
func TestReportSummaryAgreesWithRun(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, true, []string{"ann", "bob"}, []string{"dan"})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"),
		[]byte("username\nann\nbob\ndan\nANN\nnobody\n"), 0o600))
	env := append(baseEnv(cognitoURL), "COGNITO_CLIENT_ID="+p.ClientID, "COGNITO_CLIENT_SECRET="+p.ClientSecret)
	res := runBin(t, dir, env, "", "run", "--csv", "users.csv", "--report", "out.csv", "--rate", "50")
	require.Equal(t, 0, res.code, res.stderr)

	caseLine := regexp.MustCompile(`"summary: usernames compared (case-\w+)`).FindStringSubmatch(res.stderr)
	require.NotNil(t, caseLine, res.stderr)
	require.Equal(t, "case-insensitively", caseLine[1], "cognito-local's pools are case-insensitive")
	dup := regexp.MustCompile(`duplicate=(\d+)`).FindStringSubmatch(res.stderr)
	require.NotNil(t, dup, res.stderr)
	require.Equal(t, "1", dup[1])

	table := runBin(t, dir, baseEnv(""), "", "report", "summary", "out.csv")
	require.Equal(t, 0, table.code, table.stderr)
	t.Logf("report summary:\n%s", table.stdout)
	require.Regexp(t, `(?m)^users\s+4\s+\(usernames compared `+caseLine[1]+`, as the campaign.s dedupe did\)$`, table.stdout)
	require.Regexp(t, `(?m)^duplicate\s+`+dup[1]+`\s+\(rows of lines repeating a user`, table.stdout)
	require.Regexp(t, `(?m)^duplicate\s+0\s+0\.0%  \(users whose final row is duplicate; the duplicate rows: above\)$`, table.stdout)
	require.Regexp(t, `(?m)^attempts\s+\d+\s+\(Cognito calls recorded in the rows\)$`, table.stdout)
	require.NotContains(t, table.stdout, "ledger export")

	js := runBin(t, dir, baseEnv(""), "", "report", "summary", "--json", "out.csv")
	require.Equal(t, 0, js.code, js.stderr)
	var s struct {
		UsernameCase  string `json:"username_case"`
		DuplicateRows int    `json:"duplicate_rows"`
		Users         int    `json:"users"`
	}
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &s))
	require.Equal(t, "insensitive", s.UsernameCase)
	require.Equal(t, dup[1], strconv.Itoa(s.DuplicateRows))
	require.Equal(t, 4, s.Users)
}
