package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/lambdaesm"
)

// A misspelt COGNITO_RESEND_* variable is a usage error naming the nearest option's
// variable, for every command (it used to be ignored: the rate fell back to 20/s); the
// secret under the flag-style name gets its own message, never echoing the value.
func TestEnvTypoIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"), []byte("username\nalice\n"), 0o600))
	env := append(baseEnv("http://127.0.0.1:1"), "COGNITO_CLIENT_ID=client", "COGNITO_RESEND_RATTE=1")
	res := runBin(t, dir, env, "", "run", "--csv", "users.csv", "--dry-run")
	require.Equal(t, exitUsage, res.code, res.stderr)
	assert.Contains(t, res.stderr, "environment variable COGNITO_RESEND_RATTE is not an option's")
	assert.Contains(t, res.stderr, "did you mean COGNITO_RESEND_RATE?")
	t.Logf("run: %s", res.stderr)

	res = runBin(t, dir, append(baseEnv("http://127.0.0.1:1"), "COGNITO_RESEND_RATTE=1"), "", "version")
	assert.Equal(t, exitUsage, res.code, "one rule for every command: %s", res.stderr)

	const secret = "never-print-this-secret-91bd"
	env = append(baseEnv("http://127.0.0.1:1"), "COGNITO_CLIENT_ID=client", "COGNITO_RESEND_CLIENT_SECRET="+secret)
	res = runBin(t, dir, env, "", "run", "--csv", "users.csv", "--dry-run")
	require.Equal(t, exitUsage, res.code, res.stderr)
	assert.Contains(t, res.stderr, "COGNITO_RESEND_CLIENT_SECRET is not read: the client secret is COGNITO_CLIENT_SECRET")
	assert.NotContains(t, res.stderr+res.stdout, secret)
	t.Logf("secret: %s", res.stderr)

	// Known names pass (the base env sets COGNITO_RESEND_YES).
	res = runBin(t, dir, append(baseEnv("http://127.0.0.1:1"), "COGNITO_RESEND_RATE=1"), "", "version")
	assert.Equal(t, 0, res.code, res.stderr)
}

// Every cold-start failure takes one path: posted to the Runtime API as the init error
// and written as one JSON line — a misspelt variable, and the secret in a config file
// (which used to exit 2 without posting).
func TestLambdaEveryInitErrorIsPosted(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	const secret = "never-print-this-secret-c0de"
	cfgFile := filepath.Join(t.TempDir(), "cfg.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte("client-secret: "+secret+"\n"), 0o600))
	base := append(baseEnv("http://127.0.0.1:1"), "COGNITO_CLIENT_ID=client", "COGNITO_RESEND_LEDGER_TABLE=ledger",
		"AWS_LAMBDA_FUNCTION_NAME=fn")
	for _, tc := range []struct{ name, env, want string }{
		{"typo", "COGNITO_RESEND_RATTE=1", "did you mean COGNITO_RESEND_RATE?"},
		{"secret in a config file", "COGNITO_RESEND_CONFIG=" + cfgFile, "client-secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fq := emu.SQS(t)
			c := emu.NewSQSClient(fq.Endpoint)
			queue, _, arn := lambdaQueue(t, c, "lambda-init-"+strings.ReplaceAll(tc.name, " ", "-"), 5, 30*time.Second)
			var stderr lockedBuffer
			esm, err := lambdaesm.Start(t.Context(), lambdaesm.Config{SQS: c, QueueURL: queue, QueueARN: arn,
				Timeout: 10 * time.Second, MaxConcurrency: 1, Command: func(int) *exec.Cmd {
					cmd := exec.Command(bootstrapOf(t))
					cmd.Env = append(slices.Clone(base), tc.env)
					cmd.Stderr = &stderr
					return cmd
				}})
			require.NoError(t, err)
			t.Cleanup(esm.Close)
			_, err = c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String("alice")})
			require.NoError(t, err)
			require.Eventually(t, func() bool { return len(esm.Stats().InitErrors) >= 1 }, 30*time.Second, 20*time.Millisecond,
				"no init error posted; stderr: %s", stderr.String())
			st := esm.Stats()
			require.Contains(t, st.InitErrors[0], `"errorType":"Cognito-Resend.Configuration"`)
			require.Contains(t, st.InitErrors[0], tc.want)
			require.NotContains(t, st.InitErrors[0], secret)
			require.Zero(t, st.Responses)
			require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "init failed") }, 10*time.Second, 20*time.Millisecond)
			line, _, _ := strings.Cut(stderr.String(), "\n")
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &rec), "the init error is a JSON line: %q", line)
			assert.Equal(t, "ERROR", rec["level"])
			assert.Contains(t, rec["error"], tc.want)
			assert.NotContains(t, stderr.String(), secret)
			t.Logf("init error: %s\nstderr: %s", st.InitErrors[0], line)
		})
	}
}

// --csv in Lambda mode is refused naming --csv (it used to name --sqs-queue-url).
func TestLambdaCSVRefusedNamesCSV(t *testing.T) {
	t.Parallel()
	env := append(baseEnv("http://127.0.0.1:1"), "COGNITO_CLIENT_ID=client", "COGNITO_RESEND_LEDGER_TABLE=ledger",
		"AWS_LAMBDA_RUNTIME_API=127.0.0.1:1", "COGNITO_RESEND_CSV=users.csv")
	res := runBin(t, t.TempDir(), env, "", "lambda")
	require.Equal(t, exitUsage, res.code, res.stderr)
	assert.Contains(t, res.stderr, `"error":"--csv: Lambda mode takes its messages from the event source mapping: no --csv`)
	assert.NotContains(t, res.stderr, "sqs-queue-url:")
	t.Logf("%s", res.stderr)
}
