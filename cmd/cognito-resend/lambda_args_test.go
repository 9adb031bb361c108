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

// Outside Lambda, `cognito-resend lambda` says so (exit 2) rather than let the runtime
// library exit on its own; a bad setting fails before that, naming the variable's flag.
func TestLambdaCommandChecks(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	var out, errb lockedBuffer
	code := run([]string{"cognito-resend", "lambda", "--client-id", "client", "--ledger-table", "ledger"}, nil, &out, &errb,
		env(map[string]string{}))
	require.Equal(t, exitUsage, code)
	require.Contains(t, errb.String(), "not inside AWS Lambda")

	errb = lockedBuffer{}
	code = run([]string{"bootstrap"}, nil, &out, &errb, env(map[string]string{}))
	require.Equal(t, exitUsage, code)
	require.Contains(t, errb.String(), "--ledger-table: required in Lambda mode (COGNITO_RESEND_LEDGER_TABLE)")
}
