package reportset_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/browser"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/reportset"
)

// The page carries the summary's figures, escapes what came from the reports, and
// references nothing outside itself. (cmd/cognito-resend's report test renders it in
// Chromium.)
func TestWriteHTML(t *testing.T) {
	t.Parallel()
	hostile := row(`<img src=x onerror=alert(1)>`, job.StatusFailed, 5)
	hostile.ErrorCode = "CodeDeliveryFailureException"
	hostile.ErrorMessage = `</td><script src="https://evil.invalid/x.js"></script>`
	p := writeReport(t, t.TempDir(), "r.csv", []job.Result{
		row("a", job.StatusSent, 1), row("b", job.StatusSent, 2), row("c", job.StatusFailed, 3),
		row("d", "snoozed", 4), hostile,
	}, "torn,")
	set, err := reportset.Read(p)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, set.WriteHTML(&b, reportset.PageOptions{Generator: "test"}))
	page := b.String()

	require.Empty(t, browser.Fetches(page), "the page loads nothing")
	require.NotContains(t, page, "<img src=x")
	require.Contains(t, page, "&lt;img src=x onerror=alert(1)&gt;")
	require.Contains(t, page, "&lt;/td&gt;&lt;script")
	require.Contains(t, page, `content="default-src 'none'; style-src 'unsafe-inline'"`)

	sum := set.Summary()
	want := map[string]string{
		"users": strconv.Itoa(sum.Users), "rows": strconv.Itoa(sum.Rows), "attempts": strconv.Itoa(sum.Attempts),
		"superseded_rows": "0", "malformed_lines": "1",
		"first_started_at": sum.FirstStartedAt, "last_finished_at": sum.LastFinishedAt,
		"span_seconds": "5.000", "sends_per_second": "0.400", "attempts_per_second": strconv.FormatFloat(sum.AttemptsPerSecond, 'f', 3, 64),
		"statuses.snoozed":                         "1",
		"error_codes.TooManyRequestsException":     "1",
		"error_codes.CodeDeliveryFailureException": "1",
	}
	for st, n := range sum.Statuses {
		want["statuses."+string(st)] = strconv.Itoa(n)
	}
	got := browser.Texts(page, "data-k")
	for k, v := range want {
		require.NotEmpty(t, got[k], k)
		for _, g := range got[k] {
			require.Equal(t, v, g, k)
		}
	}
	require.Contains(t, page, "r.csv:7")
	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
}

// A report with no rows yet (killed before its first) still makes a page.
func TestWriteHTMLEmpty(t *testing.T) {
	t.Parallel()
	set, err := reportset.Read(writeReport(t, t.TempDir(), "r.jsonl", nil, ""))
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, set.WriteHTML(&b, reportset.PageOptions{}))
	require.Contains(t, b.String(), "No row has a start or finish time.")
	require.Contains(t, b.String(), "No final row has an error code.")
	require.Equal(t, []string{"0"}, browser.Texts(b.String(), "data-k")["users"])
}
