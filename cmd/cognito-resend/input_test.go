package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Process-level tests of the operator's input rules (issue 12 items 4, 5, 8, 10): the
// CSV header, --retry-failed, one row per non-blank line, the queue's poison rule.

// A one-column file whose first row is a header word is read with a header, and the tool
// says so; --header (flag, environment, YAML) forces it.
func TestHeaderWordInOneColumnFile(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, false, []string{"hw-ann", "hw-bob"}, nil)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte("\"Email\"\r\nhw-ann\r\nhw-bob\r\n"), 0o600))
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID="+p.ClientID)

	res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, `header:      yes (first row "Email" looks like a header: skipped, its column read as usernames; --header no sends it)`)
	require.Contains(t, res.stdout, "rows read:   2")

	res = runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r.csv", "--log-format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, `"level":"INFO","msg":"csv header","header":"yes","line":1,"reason":"first row \"Email\" looks like a header`)
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	require.Len(t, rows, 2)
	for _, r := range rows {
		require.Equal(t, "sent", r["status"], r)
	}
	st := sim.Sim.Stats()
	require.Zero(t, st.PerUser["Email"].Calls, "the header was sent to Cognito as a user")
	require.Equal(t, int64(2), st.Calls)

	// Forced: the flag, the environment and the config file all say "no".
	cfgFile := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte("header: no\n"), 0o600))
	for name, run := range map[string]struct {
		env  []string
		args []string
	}{
		"flag": {env, []string{"--header", "no"}},
		"env":  {append(env, "COGNITO_RESEND_HEADER=no"), nil},
		"yaml": {env, []string{"--config", cfgFile}},
	} {
		res := runBin(t, dir, run.env, "", append([]string{"run", "--csv", "u.csv", "--dry-run"}, run.args...)...)
		require.Equal(t, 0, res.code, "%s: %s", name, res.stderr)
		require.Contains(t, res.stdout, "header:      no (--header no: the first row is a username)", name)
		require.Contains(t, res.stdout, "rows read:   3", name)
	}

	// A first row that is no header word is a user; --header yes skips it.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plain.csv"), []byte("hw-ann\nhw-bob\n"), 0o600))
	res = runBin(t, dir, env, "", "run", "--csv", "plain.csv", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, `header:      no (first row "hw-ann" is not a header word`)
	require.Contains(t, res.stdout, "rows read:   2")
	res = runBin(t, dir, env, "", "run", "--csv", "plain.csv", "--dry-run", "--header", "yes")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "rows read:   1")

	for _, args := range [][]string{
		{"run", "--csv", "u.csv", "--header", "maybe"},
		{"run", "--user-pool-id", "us-east-1_x", "--header", "yes"},
	} {
		res = runBin(t, dir, env, "", args...)
		require.Equal(t, 2, res.code, "%v: %s", args, res.stderr)
		require.Contains(t, res.stderr, "--header", args)
	}
	require.Equal(t, int64(2), sim.Sim.Stats().Calls, "dry runs and usage errors call nothing")
}

// Every non-blank line gets exactly one row: an empty username (",,", a quoted "") is
// invalid_input; a duplicate names the source_ref of the user's first row, in this run
// or an earlier one.
func TestEveryLineOneRowAndDuplicatesNameTheirFirst(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := newPool(t, false, []string{"dr-ann", "dr-bob", "dr-cat"}, nil)
	dir := t.TempDir()
	in := "username,client_metadata.k\n" + // 1
		"dr-ann,v\n" + // 2
		",,\n" + // 3: empty username
		"DR-ANN,v\n" + // 4: duplicate of 2
		"\"\",v\n" + // 5: empty username
		"   \n" + // 6: blank, no row
		"dr-bob,v\n" + // 7
		",\n" + // 8: empty username
		"dr-ann,v\n" // 9: duplicate of 2
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte(in), 0o600))
	env := append(baseEnv(cognitoURL), "COGNITO_CLIENT_ID="+p.ClientID)

	res := runBin(t, dir, env, "", "run", "--csv", "u.csv", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	for _, want := range []string{"rows read:   7", "to send:     2", "invalid:     3", "duplicates:  2"} {
		require.Contains(t, res.stdout, want)
	}

	res = runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r.csv")
	require.Equal(t, 0, res.code, res.stderr)
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	got := map[string][2]string{} // line → status, error_message
	for _, r := range rows {
		_, dup := got[r["source_ref"]]
		require.False(t, dup, "line %s has two rows", r["source_ref"])
		got[r["source_ref"]] = [2]string{r["status"], r["error_message"]}
	}
	dupOf2 := "duplicate of source_ref 2: username already has a row in this campaign"
	require.Equal(t, map[string][2]string{
		"2": {"sent", ""},
		"3": {"invalid_input", "username is empty"},
		"4": {"duplicate", dupOf2},
		"5": {"invalid_input", "username is empty"},
		"7": {"sent", ""},
		"8": {"invalid_input", "username is empty"},
		"9": {"duplicate", dupOf2},
	}, got)

	// The file grows; a resumed run names the earlier run's line.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte(in+"Dr-Bob,v\ndr-cat,v\n"), 0o600))
	res = runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r.csv", "--resume")
	require.Equal(t, 0, res.code, res.stderr)
	_, rows = readCSVReport(t, filepath.Join(dir, "r.csv"))
	require.Len(t, rows, 9)
	require.Equal(t, "10", rows[7]["source_ref"])
	require.Equal(t, "duplicate", rows[7]["status"])
	require.Equal(t, "duplicate of source_ref 7: username already has a row in this campaign", rows[7]["error_message"])
	require.Equal(t, "sent", rows[8]["status"])
}

// setFinishedAt rewrites the finished_at of user's rows in a CSV report: the test's way
// of letting an hour pass.
func setFinishedAt(t *testing.T, path, user string, at time.Time) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	require.NoError(t, err)
	for _, r := range recs[1:] {
		if r[0] == user {
			r[11] = at.UTC().Format(time.RFC3339Nano)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	require.NoError(t, err)
	w := csv.NewWriter(f)
	require.NoError(t, w.WriteAll(recs))
	require.NoError(t, f.Close())
}

// --retry-failed calls again the users whose latest row is failed, and limit_exceeded
// once its hour has passed; the dry run and the prompt count them; the new rows
// supersede the old in the campaign's counts; a campaign with failed rows says how.
func TestRetryFailed(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	users := []string{"rf-ok", "rf-delivery", "rf-throttled", "rf-limit-old", "rf-limit-new"}
	p := newPool(t, false, users, nil)
	limit := quotasim.InjectedError{Type: "LimitExceededException", Message: "Attempt limit exceeded, please try after some time.", Times: 1}
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL, Inject: map[string]quotasim.InjectedError{
		"rf-delivery":  {Type: "CodeDeliveryFailureException", Message: "Unable to deliver", Times: 1},
		"rf-throttled": {Type: "TooManyRequestsException", Message: "Rate exceeded", Times: 2},
		"rf-limit-old": limit,
		"rf-limit-new": limit,
	}})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte("username\n"+strings.Join(users, "\n")+"\n"), 0o600))
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID="+p.ClientID)
	report := filepath.Join(dir, "r.csv")
	common := []string{"run", "--csv", "u.csv", "--report", "r.csv", "--max-attempts", "2",
		"--backoff-base", "10ms", "--backoff-max", "20ms", "--adaptive=false", "--rate", "50"}

	res := runBin(t, dir, env, "", common...)
	require.Equal(t, 1, res.code, "failed rows: exit 1\n%s", res.stderr)
	require.Contains(t, res.stderr, "2 failed: --resume --retry-failed calls them again (--report r.csv)")
	require.Contains(t, res.stderr, "2 limit_exceeded (Cognito's per-user limit): --resume --retry-failed calls them again once their hour has passed")
	_, rows := readCSVReport(t, report)
	status := map[string]string{}
	for _, r := range rows {
		status[r["username"]] = r["status"]
	}
	require.Equal(t, map[string]string{"rf-ok": "sent", "rf-delivery": "failed", "rf-throttled": "failed",
		"rf-limit-old": "limit_exceeded", "rf-limit-new": "limit_exceeded"}, status)
	calls := sim.Sim.Stats().Calls

	res = runBin(t, dir, env, "", "run", "--csv", "u.csv", "--report", "r.csv", "--retry-failed")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "--retry-failed: only makes sense with --resume")

	// A plain --resume calls nobody: failed is final without --retry-failed.
	res = runBin(t, dir, env, "", append(common, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, calls, sim.Sim.Stats().Calls)
	require.Contains(t, res.stderr, "summary: whole campaign (earlier runs and this one): 5 rows [sent=1 limit_exceeded=2 failed=2]")
	require.Contains(t, res.stderr, "2 failed: --resume --retry-failed calls them again")

	// An hour passes for one of the limit_exceeded users.
	setFinishedAt(t, report, "rf-limit-old", time.Now().Add(-61*time.Minute))

	res = runBin(t, dir, env, "", append(common, "--resume", "--retry-failed", "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	for _, want := range []string{"rows read:   3", "to send:     3", "  again:     3 (called before", "waiting:     1 limit_exceeded within their hour"} {
		require.Contains(t, res.stdout, want)
	}
	require.Equal(t, calls, sim.Sim.Stats().Calls, "a dry run calls nobody")

	var ptyEnv []string
	for _, e := range env {
		if !strings.HasPrefix(e, "COGNITO_RESEND_YES=") {
			ptyEnv = append(ptyEnv, e)
		}
	}
	code, out := runOnPTY(t, dir, append(ptyEnv, "TERM=dumb"), "n", append(common, "--resume", "--retry-failed")...)
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "About to resend confirmation codes to 3 users (3 of them again) at 50/s")
	require.Contains(t, out, `CSV header: yes (line 1 is the "username" column's name)`, "the prompt says what it counted")
	require.Equal(t, calls, sim.Sim.Stats().Calls)

	res = runBin(t, dir, env, "", append(common, "--resume", "--retry-failed")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "summary: this run: 3 rows [sent=3]")
	require.Contains(t, res.stderr, "summary: whole campaign (earlier runs and this one): 5 rows [sent=4 limit_exceeded=1]")
	require.NotContains(t, res.stderr, "failed: --resume --retry-failed")
	require.Contains(t, res.stderr, "1 limit_exceeded (Cognito's per-user limit)")
	st := sim.Sim.Stats()
	for u, want := range map[string]int64{"rf-ok": 1, "rf-delivery": 2, "rf-throttled": 3, "rf-limit-old": 2, "rf-limit-new": 1} {
		require.Equal(t, want, st.PerUser[u].Calls, u)
	}
	for _, u := range users {
		if u != "rf-limit-new" {
			require.Equal(t, int64(1), st.PerUser[u].Successes, "%s: one code", u)
		}
	}
	_, rows = readCSVReport(t, report)
	require.Len(t, rows, 8, "appended, never rewritten: the old rows stay")

	// Nothing left to retry until rf-limit-new's hour has passed.
	res = runBin(t, dir, env, "", append(common, "--resume", "--retry-failed")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "summary: this run: 0 rows []")
	require.Equal(t, st.Calls, sim.Sim.Stats().Calls)
}

// One poison rule in queue mode: any message that can't yield a Cognito call goes to
// the DLQ with its invalid_input row; without a DLQ it is recorded and deleted.
func TestQueuePoisonRule(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	fq := emu.SQS(t)
	c := emu.NewSQSClient(fq.Endpoint)
	p := newPool(t, false, []string{"qp-ann"}, nil)
	poison := []string{
		"bad name",                                    // plain body, not a valid username
		`{"username": ""}`,                            // JSON, empty username
		`{"username": "bad name"}`,                    // JSON, invalid username
		`{"username": "trunc`,                         // malformed JSON
		`{"Type": "SubscriptionConfirmation"}`,        // bad SNS envelope
		`{"Type": "Notification", "Message": "a b"}`,  // an SNS envelope around an invalid one
		`{"username": "x", "clientMetadata": "oops"}`, // the wrong shape
	}
	send := func(url string) {
		for _, b := range append([]string{"qp-ann"}, poison...) {
			_, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)})
			require.NoError(t, err)
		}
	}
	env := sqsEnv(cognitoURL, fq.Endpoint, p.ClientID)
	dir := t.TempDir()
	drain := func(url, report string) runResult {
		return runBin(t, dir, env, "", "run", "--sqs-queue-url", url, "--report", report, "--rate", "50",
			"--wait-time-seconds", "1", "--exit-when-empty", "--empty-polls", "2", "--log-format", "json")
	}
	checkRows := func(report string) {
		t.Helper()
		_, rows := readCSVReport(t, filepath.Join(dir, report))
		require.Len(t, rows, 1+len(poison))
		invalid := 0
		for _, r := range rows {
			if r["username"] == "qp-ann" {
				continue
			}
			require.Equal(t, "invalid_input", r["status"], r)
			require.NotEmpty(t, r["error_message"])
			require.NotEmpty(t, r["source_ref"], "the message id")
			invalid++
		}
		require.Equal(t, len(poison), invalid)
	}

	url, dlq := queueWithDLQ(t, c, "poison", 5)
	send(url)
	res := drain(url, "r1.csv")
	require.Equal(t, 0, res.code, res.stderr)
	checkRows("r1.csv")
	require.Equal(t, [2]int{0, 0}, func() [2]int { v, n := queueCounts(t, c, url); return [2]int{v, n} }(), "every message deleted")
	var inDLQ []string
	for {
		out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq), MaxNumberOfMessages: 10,
			MessageAttributeNames: []string{"All"}})
		require.NoError(t, err)
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			inDLQ = append(inDLQ, aws.ToString(m.Body))
			require.NotEmpty(t, aws.ToString(m.MessageAttributes["cognito-resend-reason"].StringValue))
			_, err := c.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(dlq), ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
	require.ElementsMatch(t, poison, inDLQ, "every message that can't yield a call is in the DLQ, unchanged")

	// A queue without a DLQ: recorded and deleted, and the worker said so at start.
	plain, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("poison-nodlq")})
	require.NoError(t, err)
	send(aws.ToString(plain.QueueUrl))
	res = drain(aws.ToString(plain.QueueUrl), "r2.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "queue has no RedrivePolicy: poison messages (invalid_input")
	checkRows("r2.csv")
	v, n := queueCounts(t, c, aws.ToString(plain.QueueUrl))
	require.Equal(t, [2]int{0, 0}, [2]int{v, n})
}
