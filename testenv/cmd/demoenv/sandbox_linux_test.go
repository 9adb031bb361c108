package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// TestSandbox runs what `make sandbox` runs, as a person would: it waits for
// the ready line, uses the printed export lines against every server, then
// stops it with SIGINT and checks that every child process is gone.
func TestSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("starts every emulator")
	}
	t.Parallel()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "demoenv")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	dir := filepath.Join(tmp, "sandbox")
	cmd := exec.Command(bin, "--sandbox", "--users", "4", "--confirm", "1", "--dir", dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderrFile, err := os.Create(filepath.Join(tmp, "stderr"))
	require.NoError(t, err)
	defer stderrFile.Close()
	cmd.Stderr = stderrFile
	stderr := func() string { b, _ := os.ReadFile(stderrFile.Name()); return string(b) }
	require.NoError(t, cmd.Start())

	// One goroutine reads stdout to its end, then reaps the process.
	var guide []string // stdout lines before "ready"
	ready := make(chan struct{})
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			if !seen && sc.Text() == "ready" {
				seen = true
				close(ready)
			} else if !seen {
				guide = append(guide, sc.Text())
			}
		}
		exited <- cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // if still running; the emulators follow: they watch their stdin pipe
		<-exited
	})
	select {
	case <-ready:
	case err := <-exited:
		t.Fatalf("exited before ready: %v; stdout:\n%s\nstderr:\n%s", err, strings.Join(guide, "\n"), stderr())
	case <-time.After(3 * time.Minute):
		t.Fatalf("no ready line after 3 minutes; stderr:\n%s", stderr())
	}
	text := strings.Join(guide, "\n")
	// The ledger is there to try, not a feature to come.
	require.NotContains(t, text, "lands")
	require.Contains(t, text, `bin/cognito-resend ledger init --ledger-table "$LEDGER_TABLE"`)

	// The export lines, and the env file saying the same.
	exports := map[string]string{}
	re := regexp.MustCompile(`^export ([A-Z0-9_]+)=(\S+)`)
	for _, l := range guide {
		if m := re.FindStringSubmatch(l); m != nil {
			exports[m[1]] = m[2]
		}
	}
	for _, k := range []string{
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB",
		"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "COGNITO_CLIENT_ID",
		"COGNITO_RESEND_CLIENT_SECRET_FILE", "COGNITO_USER_POOL_ID", "SQS_QUEUE_URL", "SQS_DLQ_URL",
		"USERS_CSV", "LEDGER_TABLE", "QUOTASIM_URL", "SANDBOX_DIR",
	} {
		require.NotEmpty(t, exports[k], "no export line for %s in:\n%s", k, text)
	}
	for k, v := range exports {
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL_") || k == "QUOTASIM_URL" {
			require.Regexp(t, `^http://127\.0\.0\.1:\d+$`, v, k)
		}
	}
	envPath := filepath.Join(dir, "sandbox.env")
	require.Contains(t, text, "set -a; . "+envPath+"; set +a")
	require.Contains(t, text, exports["QUOTASIM_URL"]+"/__sim/stats")
	envText, err := os.ReadFile(envPath)
	require.NoError(t, err)
	fromFile := map[string]string{}
	for _, l := range strings.Split(string(envText), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			fromFile[k] = v
		}
	}
	require.Equal(t, exports, fromFile)

	ctx := t.Context()
	simURL := exports["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
	require.Equal(t, exports["QUOTASIM_URL"], simURL, "Cognito goes through the quota simulator")

	// The secret: only in its 0600 file, never printed.
	secretFile := exports["COGNITO_RESEND_CLIENT_SECRET_FILE"]
	st, err := os.Stat(secretFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	secretBytes, err := os.ReadFile(secretFile)
	require.NoError(t, err)
	secret := strings.TrimSpace(string(secretBytes))
	require.NotEmpty(t, secret)
	require.NotContains(t, text, secret)
	require.NotContains(t, stderr(), secret)
	require.NotContains(t, string(envText), secret)

	// Cognito, through the simulator: the users in every state.
	cog := emu.NewCognitoClient(simURL, func(o *cip.Options) { o.Retryer = aws.NopRetryer{} })
	lu, err := cog.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(exports["COGNITO_USER_POOL_ID"])})
	require.NoError(t, err)
	status := map[string]string{}
	enabled := map[string]bool{}
	for _, u := range lu.Users {
		status[aws.ToString(u.Username)] = string(u.UserStatus)
		enabled[aws.ToString(u.Username)] = u.Enabled
	}
	require.Equal(t, map[string]string{
		"demo-user-001":  string(ciptypes.UserStatusTypeConfirmed),
		"demo-user-002":  string(ciptypes.UserStatusTypeUnconfirmed),
		"demo-user-003":  string(ciptypes.UserStatusTypeUnconfirmed),
		"demo-user-004":  string(ciptypes.UserStatusTypeUnconfirmed),
		adminCreatedUser: string(ciptypes.UserStatusTypeForceChangePassword),
		disabledUser:     string(ciptypes.UserStatusTypeUnconfirmed),
	}, status)
	require.False(t, enabled[disabledUser])
	require.True(t, enabled["demo-user-002"])

	clientID := exports["COGNITO_CLIENT_ID"]
	_, err = cog.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{
		ClientId:   aws.String(clientID),
		Username:   aws.String("demo-user-002"),
		SecretHash: aws.String(emu.SecretHash("demo-user-002", clientID, secret)),
	})
	require.NoError(t, err, "the secret file holds the app client's secret")
	stats, err := quotasim.FetchStats(ctx, exports["QUOTASIM_URL"])
	require.NoError(t, err)
	require.Equal(t, quotasim.UserStats{Calls: 1, Successes: 1}, stats.PerUser["demo-user-002"])

	// The CSV: every pool user, plus an unknown one, a duplicate and invalid names.
	f, err := os.Open(exports["USERS_CSV"])
	require.NoError(t, err)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	require.NoError(t, err)
	var names []string
	for _, r := range rows[1:] {
		names = append(names, r[0])
	}
	require.Equal(t, "username", rows[0][0])
	for u := range status {
		require.Contains(t, names, u)
	}
	require.Contains(t, names, unknownUser)
	require.NotContains(t, status, unknownUser)
	require.Len(t, names, len(status)+4)

	// SQS: the queue and its DLQ.
	sq := emu.NewSQSClient(exports["AWS_ENDPOINT_URL_SQS"], func(o *sqs.Options) { o.Retryer = aws.NopRetryer{} })
	qa, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(exports["SQS_QUEUE_URL"]),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy}})
	require.NoError(t, err)
	da, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(exports["SQS_DLQ_URL"]),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	require.NoError(t, err)
	require.Contains(t, qa.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)], da.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])

	// DynamoDB: answers, and holds no table yet.
	lt, err := emu.NewDynamoClient(exports["AWS_ENDPOINT_URL_DYNAMODB"]).ListTables(ctx, &dynamodb.ListTablesInput{})
	require.NoError(t, err)
	require.Empty(t, lt.TableNames)

	// Ctrl-C: every child stops, every port closes.
	children := childPIDs(t, cmd.Process.Pid)
	require.Len(t, children, 3, "cognito-local, fauxqs, dynalite")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-exited:
		require.NoError(t, err, "exit after SIGINT; stderr:\n%s", stderr())
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGINT; stderr:\n%s", stderr())
	}
	for _, pid := range children {
		_, err := os.Stat("/proc/" + strconv.Itoa(pid))
		require.ErrorIs(t, err, os.ErrNotExist, "child %d outlived the sandbox", pid)
	}
	for _, k := range []string{"QUOTASIM_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB"} {
		u, err := url.Parse(exports[k])
		require.NoError(t, err)
		_, err = net.DialTimeout("tcp", u.Host, time.Second)
		require.Error(t, err, "%s still answers", k)
	}
	require.Contains(t, stderr(), "demoenv: stopped")
}

// childPIDs lists the processes whose parent is pid.
func childPIDs(t *testing.T, pid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at the last ')'.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}
