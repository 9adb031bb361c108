package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// TestQueueKillResumeCountsUnknown is the SRE trial's point 3: a queue worker SIGKILLed
// with 8 calls in flight; its --resume reports those 8 users `unknown`, their messages
// come back and are reported `duplicate`. A duplicate row never supersedes a real
// outcome: the resume summary and `report summary` both count 12 sent and 8 unknown
// (before: the summary said `sent=12 duplicate=8`).
func TestQueueKillResumeCountsUnknown(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	q := newFauxQueue(t, "killed", 5)
	dir := t.TempDir()
	sim := quotasim.StartT(t, quotasim.Config{})
	env := sqsEnv(sim.URL, q.sqs, "c")
	args := []string{"run", "--sqs-queue-url", q.url, "--report", "r.csv", "--wait-time-seconds", "1",
		"--visibility-timeout", "10s", "--log-format", "json"}
	w := startWorker(t, dir, env, append(args, "--workers", "8", "--rate", "50")...)
	require.Eventually(t, func() bool { return strings.Contains(w.stderr.String(), "Cognito answers: receiving") },
		30*time.Second, 20*time.Millisecond, w.stderr.String())
	// Calls that never answer (until the kill): 8 users in flight.
	require.NoError(t, quotasim.UpdateConfig(t.Context(), sim.URL, func(c *quotasim.Config) { c.LatencyFixed = time.Minute }))
	enqueueUsers(t, dir, env, q.url, "killed", 20)
	calling := func() int {
		n := 0
		for u, s := range sim.Sim.Stats().PerUser {
			if u != "" && s.Calls > 0 {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return calling() == 8 }, 30*time.Second, 20*time.Millisecond, w.stderr.String())
	require.NoError(t, w.cmd.Process.Signal(syscall.SIGKILL))
	<-w.done

	require.NoError(t, quotasim.UpdateConfig(context.Background(), sim.URL, func(c *quotasim.Config) { c.LatencyFixed = 0 }))
	res := runBin(t, dir, env, "", append(args, "--resume", "--exit-when-empty", "--empty-polls", "15")...)
	require.Equal(t, 0, res.code, res.stderr)
	whole := regexp.MustCompile(`summary: whole campaign \(earlier runs and this one\): [^"\n]*`).FindString(res.stderr)
	t.Logf("resume after SIGKILL: %s", whole)
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	dups := 0
	for _, r := range rows {
		if r["status"] == "duplicate" {
			dups++
		}
	}
	require.Equal(t, 8, dups, "the redelivered messages of the unknown users are reported duplicate\n%s", res.stderr)
	require.Equal(t, "summary: whole campaign (earlier runs and this one): 20 rows [sent=12 unknown=8]", whole)
	rep := runBin(t, dir, env, "", "report", "summary", "r.csv")
	require.Equal(t, 0, rep.code, rep.stderr)
	t.Logf("report summary:\n%s", rep.stdout)
	require.Regexp(t, `(?m)^unknown\s+8\b`, rep.stdout)
	require.Regexp(t, `(?m)^sent\s+12\b`, rep.stdout)
}
