package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// rotatedReportRe matches r.csv's rotated copies.
var rotatedReportRe = regexp.MustCompile(`^r-\d{8}T\d{6}Z(-\d+)?\.csv$`)

// drainWithRotation enqueues n users and drains them with one worker whose report
// rotates at 2 KiB, keeping keep rotated pairs. It returns the directory, the report
// files (rotated ones and r.csv) and the quota simulator.
func drainWithRotation(t *testing.T, name string, n, keep int) (string, []string, *quotasim.Server) {
	t.Helper()
	fq := emu.SQS(t)
	c := emu.NewSQSClient(fq.Endpoint)
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("rot-user-%03d", i)
	}
	sim := quotasim.StartT(t, quotasim.Config{})
	url, _ := queueWithDLQ(t, c, name, 5)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"), []byte("username\n"+strings.Join(users, "\n")+"\n"), 0o600))
	env := sqsEnv(sim.URL, fq.Endpoint, "c")

	res := runBin(t, dir, env, "", "enqueue", "--csv", "users.csv", "--sqs-queue-url", url)
	require.Equal(t, 0, res.code, res.stderr)
	res = runBin(t, dir, env, "", "run", "--sqs-queue-url", url, "--report", "r.csv", "--rate", "1000",
		"--workers", "8", "--wait-time-seconds", "1", "--exit-when-empty", "--empty-polls", "2",
		"--report-max-size", "2KiB", "--report-keep", fmt.Sprint(keep), "--log-format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, `"msg":"report rotated"`)
	vis, notVis := queueCounts(t, c, url)
	require.Equal(t, [2]int{0, 0}, [2]int{vis, notVis}, "every message processed and deleted")
	st := sim.Sim.Stats()
	for _, u := range users {
		require.Equal(t, int64(1), st.PerUser[u].Successes, u)
	}

	var reports []string
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		name := e.Name()
		if name == "users.csv" {
			continue
		}
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), name)
		switch {
		case strings.HasSuffix(name, ".ledger"):
			require.FileExists(t, strings.TrimSuffix(path, ".ledger"), "a ledger has its report")
		case name == "r.csv.input":
			// what the campaign is bound to (its queue); it stays with the current report
		case name == "r.csv" || rotatedReportRe.MatchString(name):
			require.FileExists(t, path+".ledger", "a report has its ledger")
			reports = append(reports, path)
		default:
			t.Fatalf("unexpected file %s", name)
		}
	}
	return dir, reports, sim
}

// rowsByUser reads every report: each starts with the header; rows are counted per user.
func rowsByUser(t *testing.T, reports []string) map[string]int {
	t.Helper()
	rows := map[string]int{}
	for _, r := range reports {
		header, rs := readCSVReport(t, r)
		require.Equal(t, wantColumns, header, r)
		for _, row := range rs {
			require.Equal(t, "sent", row["status"], row)
			rows[row["username"]]++
		}
	}
	return rows
}

// TestQueueReportRotation: a queue worker's report rotates by size; across the rotated
// files and the current one every message has exactly one row.
func TestQueueReportRotation(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	const n = 300
	_, reports, _ := drainWithRotation(t, "rotate-all", n, 1000)
	// A row is ~120 bytes: 300 rows are ~36 KiB, so well over 10 rotations at 2 KiB.
	require.Greater(t, len(reports), 10)
	rows := rowsByUser(t, reports)
	require.Len(t, rows, n)
	for u, c := range rows {
		require.Equal(t, 1, c, "exactly one row for %s", u)
	}
}

// TestQueueReportRotationKeep: only --report-keep rotated pairs survive, beside the
// current one; what is left is still one row per user.
func TestQueueReportRotationKeep(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	const n = 300
	dir, reports, _ := drainWithRotation(t, "rotate-keep", n, 3)
	require.Len(t, reports, 3+1, "3 rotated reports and r.csv")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1+2*(3+1)+1, "users.csv, 4 report+ledger pairs and r.csv.input")
	rows := rowsByUser(t, reports)
	require.NotEmpty(t, rows)
	require.Less(t, len(rows), n, "the oldest rotations were deleted")
	for u, c := range rows {
		require.Equal(t, 1, c, "exactly one row for %s", u)
	}
}
