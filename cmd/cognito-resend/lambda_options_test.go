package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The built bootstrap inside Lambda (the Runtime API set; refused before any call):
// COGNITO_RESEND_RESUME is refused under its own name, each option without use in
// Lambda mode with a reason that fits it, and `lambda --help` describes what the options
// do in a function, not in run (trial 4: "--report:" for RESUME; --user-pool-id "alone,
// the source"; --daily-budget "a CSV or pool campaign stops with exit 4"; --retry-unknown
// "with --resume"; the event source mapping given as --invitation-rate's reason).
func TestLambdaOptionsSayLambdasTruth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := append(baseEnv(""), envRuntimeAPI+"=127.0.0.1:1", "COGNITO_CLIENT_ID=client",
		"COGNITO_RESEND_LEDGER_TABLE=ledger")

	res := runBin(t, dir, append(env, "COGNITO_RESEND_RESUME=true"), "", "lambda")
	require.Equal(t, exitUsage, res.code, res.stderr)
	require.Contains(t, res.stderr, "--resume: Lambda mode has no report to resume")
	require.NotContains(t, res.stderr, "--report:")

	for name, why := range map[string]string{
		"COGNITO_RESEND_INVITATION_RATE=5":   "--invitation-rate: has no effect in Lambda mode (it is an --invitations setting, and --invitations is not available in Lambda mode yet)",
		"COGNITO_RESEND_CREATED_AFTER=3d":    "--created-after: has no effect in Lambda mode (there is no pool listing",
		"COGNITO_RESEND_REPORT_KEEP=3":       "--report-keep: has no effect in Lambda mode (Lambda mode writes no report",
		"COGNITO_RESEND_SHUTDOWN_TIMEOUT=5s": "--shutdown-timeout: has no effect in Lambda mode (the invocation's deadline bounds the work",
	} {
		res := runBin(t, dir, append(env, name), "", "lambda")
		require.Equal(t, exitUsage, res.code, name)
		require.Contains(t, res.stderr, why, name)
	}

	res = runBin(t, dir, baseEnv(""), "", "lambda", "--help")
	require.Equal(t, 0, res.code, res.stderr)
	help := regexp.MustCompile(`\s+`).ReplaceAllString(res.stdout, " ")
	for flag, want := range map[string]string{
		"user-pool-id":  "the user pool of the messages' users: its username case rule",
		"daily-budget":  "once spent, each message not yet started is made invisible until the next window opens",
		"retry-unknown": "call again the users the ledger table holds as unknown",
		"verify-users":  "get their outcome in the message's log line and no resend",
		"max-outage":    "the function goes on: the batches fail and the event source mapping backs off",
		"list-rate":     "the --verify-users census and lookups",
		"ledger-table":  "required in Lambda mode (create it with: cognito-resend ledger init) (default: none: required)",
	} {
		require.Contains(t, help, "--"+flag, flag)
		require.Contains(t, help, want, flag)
	}
	for _, runs := range []string{"alone, the source", "stops with exit 4", "with --resume", "stop the campaign (exit 3)", "get their row",
		"the pool source's listing", "the file ledger beside the report"} {
		require.NotContains(t, help, runs)
	}
	// run's help keeps run's descriptions.
	res = runBin(t, dir, baseEnv(""), "", "run", "--help")
	require.Equal(t, 0, res.code, res.stderr)
	require.True(t, strings.Contains(regexp.MustCompile(`\s+`).ReplaceAllString(res.stdout, " "), "alone, the source"))
}
