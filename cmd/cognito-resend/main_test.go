package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
)

// Process-level tests: the built binary against cognito-local on loopback.

var (
	binPath     string
	cognitoURL  string // shared cognito-local; each test makes its own pool
	integration = true
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	// testing.Short is only valid after flag parsing, which m.Run does; parse here.
	if !strings.Contains(strings.Join(os.Args, " "), "-test.short") {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		dir, err := os.MkdirTemp("", "cognito-resend-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binPath = filepath.Join(dir, "cognito-resend")
		build := exec.CommandContext(ctx, "go", "build", "-race", "-o", binPath, ".")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build:", err)
			return 1
		}
		srv, err := emu.StartCognito(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cognito-local:", err)
			return 1
		}
		defer srv.Close()
		cognitoURL = srv.Endpoint
	} else {
		integration = false
	}
	return m.Run()
}

func needIntegration(t *testing.T) {
	t.Helper()
	if !integration {
		t.Skip("integration test (needs cognito-local); run without -short")
	}
}

type runResult struct {
	code           int
	stdout, stderr string
}

// baseEnv is a clean environment: no AWS credentials or config files at all, so the
// tests prove the resend path needs none.
func baseEnv(endpoint string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.TempDir(),
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + endpoint,
		"COGNITO_RESEND_YES=true", // no terminal in tests; the prompt has its own tests
	}
}

func runBin(t *testing.T, dir string, env []string, stdin string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return runResult{code: code, stdout: out.String(), stderr: errb.String()}
}

func readCSVReport(t *testing.T, path string) ([]string, []map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1 // a line torn by kill -9 stays in the file; skip it as resume does
	recs, err := cr.ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	var rows []map[string]string
	for _, r := range recs[1:] {
		if len(r) != len(recs[0]) {
			continue
		}
		m := map[string]string{}
		for i, k := range recs[0] {
			m[k] = r[i]
		}
		rows = append(rows, m)
	}
	return recs[0], rows
}

func byUser(rows []map[string]string) map[string][]map[string]string {
	out := map[string][]map[string]string{}
	for _, r := range rows {
		out[r["username"]] = append(out[r["username"]], r)
	}
	return out
}

// newPool creates a pool with a secret, unconfirmed users and confirmed users.
func newPool(t *testing.T, secret bool, unconfirmed, confirmed []string) *emu.Pool {
	t.Helper()
	ctx := t.Context()
	p, err := emu.NewPool(ctx, cognitoURL, emu.PoolOptions{WithSecret: secret})
	require.NoError(t, err)
	for _, u := range append(append([]string{}, unconfirmed...), confirmed...) {
		require.NoError(t, p.SignUp(ctx, u, u+"@example.com"))
	}
	for _, u := range confirmed {
		require.NoError(t, p.Confirm(ctx, u))
	}
	return p
}

var wantColumns = []string{"username", "status", "attempts", "error_code", "error_message",
	"delivery_medium", "destination", "attribute_name", "request_id", "source_ref",
	"started_at", "finished_at", "message"}

// wantColumnsV1 is the header of reports written before the message column: the
// fixtures of earlier campaigns use it, and they still resume.
var wantColumnsV1 = wantColumns[:12]

func TestCampaignEndToEnd(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, true, []string{"ann", "bob", "cat"}, []string{"dan"})
	dir := t.TempDir()
	long := strings.Repeat("x", 129)
	input := "\uFEFFUserName,client_metadata.campaign\r\n" +
		"ann,spring\r\n" +
		"  bob  ,spring\r\n" +
		"\r\n" +
		"\"cat\",spring\r\n" +
		"dan,spring\r\n" +
		"nobody,spring\r\n" +
		"ANN,spring\r\n" +
		"bad name,spring\r\n" +
		long + ",spring\r\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"), []byte(input), 0o600))

	env := append(baseEnv(cognitoURL), "COGNITO_CLIENT_ID="+p.ClientID, "COGNITO_CLIENT_SECRET="+p.ClientSecret)
	res := runBin(t, dir, env, "", "run", "--csv", "users.csv", "--report", "out.csv", "--rate", "50",
		"--metadata", "source=test")
	require.Equal(t, 0, res.code, "stderr: %s", res.stderr)

	st, err := os.Stat(filepath.Join(dir, "out.csv"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	header, rows := readCSVReport(t, filepath.Join(dir, "out.csv"))
	require.Equal(t, wantColumns, header)
	require.Len(t, rows, 8, "one row per input row")
	u := byUser(rows)
	for _, name := range []string{"ann", "bob", "cat"} {
		require.Len(t, u[name], 1, name)
		r := u[name][0]
		require.Equal(t, "sent", r["status"], name)
		require.Equal(t, "1", r["attempts"])
		require.Equal(t, "EMAIL", r["delivery_medium"])
		require.Equal(t, "email", r["attribute_name"])
		require.NotEmpty(t, r["destination"])
		_, err := time.Parse(time.RFC3339Nano, r["started_at"])
		require.NoError(t, err)
	}
	require.Equal(t, "2", u["ann"][0]["source_ref"])
	require.Equal(t, "3", u["bob"][0]["source_ref"])
	require.Equal(t, "5", u["cat"][0]["source_ref"])
	require.Equal(t, "already_confirmed", u["dan"][0]["status"])
	require.Equal(t, "user_not_found", u["nobody"][0]["status"])
	require.Equal(t, "UserNotFoundException", u["nobody"][0]["error_code"])
	require.Equal(t, "duplicate", u["ANN"][0]["status"])
	require.Equal(t, "0", u["ANN"][0]["attempts"])
	require.Equal(t, "invalid_input", u["bad name"][0]["status"])
	require.Equal(t, "invalid_input", u[long][0]["status"])
	require.Contains(t, u[long][0]["error_message"], "129 characters")

	require.Contains(t, res.stderr, "summary: 8 rows")
	require.Contains(t, res.stderr, "sent=3")
	// The secret must appear nowhere the tool writes.
	report, err := os.ReadFile(filepath.Join(dir, "out.csv"))
	require.NoError(t, err)
	for _, s := range []string{res.stdout, res.stderr, string(report)} {
		require.NotContains(t, s, p.ClientSecret)
	}
}

func TestJSONLReportFromStdin(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, false, []string{"eve"}, nil)
	dir := t.TempDir()
	env := append(baseEnv(cognitoURL), "COGNITO_CLIENT_ID="+p.ClientID)
	res := runBin(t, dir, env, "eve\nghost\n", "run", "--csv", "-", "--report", "r.jsonl")
	require.Equal(t, 0, res.code, res.stderr)
	b, err := os.ReadFile(filepath.Join(dir, "r.jsonl"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 2)
	// Keys in report order.
	keyOrder := func(line string) []string {
		dec := json.NewDecoder(strings.NewReader(line))
		var keys []string
		_, _ = dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			keys = append(keys, k.(string))
			var v any
			require.NoError(t, dec.Decode(&v))
		}
		return keys
	}
	require.Equal(t, wantColumns, keyOrder(lines[0]))
	statuses := map[string]string{}
	for _, l := range lines {
		var row map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &row))
		statuses[row["username"].(string)] = row["status"].(string)
	}
	require.Equal(t, map[string]string{"eve": "sent", "ghost": "user_not_found"}, statuses)
}

func TestMissingSecretStopsCampaign(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	users := []string{"m1", "m2", "m3", "m4", "m5", "m6"}
	p := newPool(t, true, users, nil)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte("username\n"+strings.Join(users, "\n")+"\n"), 0o600))
	env := append(baseEnv(cognitoURL), "COGNITO_CLIENT_ID="+p.ClientID) // no secret
	res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r.csv", "--workers", "1")
	require.Equal(t, 3, res.code, res.stderr)
	require.Contains(t, res.stderr, "NotAuthorizedException")
	require.Contains(t, res.stderr, "COGNITO_CLIENT_SECRET")
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	require.Empty(t, rows, "no user is at fault: no rows, so --resume retries them all")
}

func TestUnknownClientStopsCampaign(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dir := t.TempDir()
	env := append(baseEnv(cognitoURL), "COGNITO_CLIENT_ID=doesnotexist")
	res := runBin(t, dir, env, "a\nb\n", "run", "--csv", "-", "--report", "r.csv")
	require.Equal(t, 3, res.code, res.stderr)
	require.Contains(t, res.stderr, "ResourceNotFoundException")
	require.Contains(t, res.stderr, "--client-id")
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "exists.csv"), []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "noname.csv"), []byte("email,name\na@b.c,a\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty.csv"), nil, 0o600))
	env := baseEnv("http://127.0.0.1:1") // nothing listens: any call would fail differently
	cases := []struct {
		name    string
		env     []string
		args    []string
		wantErr string
	}{
		{"no client id", env, []string{"run", "--csv", "-"}, "--client-id"},
		{"no csv", append(env, "COGNITO_CLIENT_ID=c"), []string{"run"}, "--csv"},
		{"bad rate", append(env, "COGNITO_CLIENT_ID=c"), []string{"run", "--csv", "-", "--rate", "0"}, "--rate"},
		{"bad report ext", append(env, "COGNITO_CLIENT_ID=c"), []string{"run", "--csv", "-", "--report", "r.txt"}, "--report"},
		{"report exists", append(env, "COGNITO_CLIENT_ID=c"), []string{"run", "--csv", "-", "--report", "exists.csv"}, "already exists"},
		{"no username column", append(env, "COGNITO_CLIENT_ID=c"), []string{"run", "--csv", "noname.csv", "--report", "a.csv"}, "username"},
		{"empty csv", append(env, "COGNITO_CLIENT_ID=c"), []string{"run", "--csv", "empty.csv", "--report", "b.csv"}, "no usernames"},
		{"missing csv file", append(env, "COGNITO_CLIENT_ID=c"), []string{"run", "--csv", "nope.csv"}, "nope.csv"},
		{"bad metadata", append(env, "COGNITO_CLIENT_ID=c"), []string{"run", "--csv", "-", "--metadata", "novalue"}, "--metadata"},
		{"fleet rate without a table", append(env, "COGNITO_CLIENT_ID=c"), []string{"run", "--csv", "-", "--fleet-rate", "40"}, "--fleet-rate: needs --ledger-table"},
		{"fleet rate from the environment", append(env, "COGNITO_CLIENT_ID=c", "COGNITO_RESEND_FLEET_RATE=40"), []string{"run", "--csv", "-"}, "--fleet-rate: needs --ledger-table"},
		{"unknown flag", append(env, "COGNITO_CLIENT_ID=c"), []string{"run", "--csv", "-", "--client-secret", "x"}, "client-secret"},
		{"secret file and env", append(env, "COGNITO_CLIENT_ID=c", "COGNITO_CLIENT_SECRET=s"), []string{"run", "--csv", "-", "--client-secret-file", "exists.csv"}, "--client-secret-file"},
		{"no region", []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_CONFIG_FILE=/nonexistent", "COGNITO_CLIENT_ID=c"}, []string{"run", "--csv", "-", "--report", "c.csv"}, "--region"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runBin(t, dir, tc.env, "someone\n", tc.args...)
			require.Equal(t, 2, res.code, "stderr: %s", res.stderr)
			require.Contains(t, res.stderr, tc.wantErr)
		})
	}
}
