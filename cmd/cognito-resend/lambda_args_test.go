package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The binary named bootstrap (provided.al2023) with no arguments, or any name with no
// arguments inside Lambda, is `cognito-resend lambda`; anything else is left alone.
func TestLambdaArgs(t *testing.T) {
	t.Parallel()
	none := func(string) string { return "" }
	inLambda := func(k string) string {
		if k == envRuntimeAPI {
			return "127.0.0.1:9001"
		}
		return ""
	}
	require.Equal(t, []string{"/var/task/bootstrap", "lambda"}, lambdaArgs([]string{"/var/task/bootstrap"}, none))
	require.Equal(t, []string{"cognito-resend", "lambda"}, lambdaArgs([]string{"cognito-resend"}, inLambda))
	require.Equal(t, []string{"cognito-resend"}, lambdaArgs([]string{"cognito-resend"}, none))
	require.Equal(t, []string{"bootstrap", "version"}, lambdaArgs([]string{"bootstrap", "version"}, inLambda))
}

// Outside Lambda, `cognito-resend lambda` says so (exit 2), before any option's
// complaint, rather than let the runtime library exit on its own; inside it, a bad
// setting fails naming the variable's flag.
func TestLambdaCommandChecks(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	var out, errb lockedBuffer
	code := run([]string{"cognito-resend", "lambda", "--client-id", "client", "--ledger-table", "ledger"}, nil, &out, &errb,
		env(map[string]string{}))
	require.Equal(t, exitUsage, code)
	require.Contains(t, errb.String(), "not inside AWS Lambda")

	// With nothing set, outside Lambda is said first (not a missing option).
	errb = lockedBuffer{}
	code = run([]string{"bootstrap"}, nil, &out, &errb, env(map[string]string{}))
	require.Equal(t, exitUsage, code)
	require.Contains(t, errb.String(), "not inside AWS Lambda")
	require.NotContains(t, errb.String(), "--ledger-table")

	// Inside Lambda, a bad setting names its flag.
	errb = lockedBuffer{}
	code = run([]string{"bootstrap"}, nil, &out, &errb, env(map[string]string{envRuntimeAPI: "127.0.0.1:1", "COGNITO_CLIENT_ID": "client"}))
	require.Equal(t, exitUsage, code)
	require.Contains(t, errb.String(), "--ledger-table: required in Lambda mode (COGNITO_RESEND_LEDGER_TABLE)")

	// An option Lambda mode has no use for is refused, not ignored; --help leaves it out.
	errb = lockedBuffer{}
	code = run([]string{"cognito-resend", "lambda", "--client-id", "client", "--ledger-table", "ledger", "--created-after", "3d"},
		nil, &out, &errb, env(map[string]string{envRuntimeAPI: "127.0.0.1:1"}))
	require.Equal(t, exitUsage, code)
	require.Contains(t, errb.String(), "--created-after: has no effect in Lambda mode")
	out = lockedBuffer{}
	code = run([]string{"cognito-resend", "lambda", "--help"}, nil, &out, &errb, env(map[string]string{}))
	require.Equal(t, exitOK, code)
	for _, hidden := range []string{"csv", "created-after", "dry-run", "yes", "report", "progress", "wait-time-seconds", "invitations"} {
		require.NotRegexp(t, `(?m)^\s+--`+hidden+`\b`, out.String())
	}
	for _, shown := range []string{"ledger-table", "rate", "daily-budget", "max-receive-count", "verify-users"} {
		require.Regexp(t, `(?m)^\s+--`+shown+`\b`, out.String())
	}
	// A function's campaign id and rates are its own, not run's (the trial read run's).
	require.Contains(t, out.String(), "(default: lambda:<function name>)")
	require.Regexp(t, `(?m)^\s+--rate float\s+.*for each execution environment`, out.String())
	require.Regexp(t, `(?m)^\s+--reserve float\s+.*per execution environment`, out.String())
}
