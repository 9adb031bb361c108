package reportset_test

import (
	"bytes"
	"fmt"
	"regexp"
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

// The page says the span once under a minute ("6.000 s", not "6.000 s (6s)"), and in
// hours, minutes and seconds beside it above.
func TestWriteHTMLSpanOnce(t *testing.T) {
	t.Parallel()
	page := func(rows ...job.Result) string {
		set, err := reportset.Read(writeReport(t, t.TempDir(), "r.csv", rows, ""))
		require.NoError(t, err)
		var b bytes.Buffer
		require.NoError(t, set.WriteHTML(&b, reportset.PageOptions{}))
		return b.String()
	}
	short := page(row("a", job.StatusSent, 1), row("b", job.StatusSent, 6))
	require.Regexp(t, `<span data-k="span_seconds">6\.000</span> s\.`, short)
	long := page(row("a", job.StatusSent, 1), row("b", job.StatusSent, 181.4))
	require.Regexp(t, `<span data-k="span_seconds">181\.400</span> s \(3m1s\)\.`, long)
}

// A chart whose values are all 0 says so instead of an axis from 0 to 0, and every time
// label is centred on its bucket with room for half the widest label on either side.
func TestWriteHTMLChartAxes(t *testing.T) {
	t.Parallel()
	var rows []job.Result
	for i := range 181 { // one sent row a second for three minutes, never throttled
		rows = append(rows, row(fmt.Sprintf("u%03d", i), job.StatusSent, float64(i)+0.5))
	}
	set, err := reportset.Read(writeReport(t, t.TempDir(), "r.csv", rows, ""))
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, set.WriteHTML(&b, reportset.PageOptions{}))
	page := b.String()

	charts := regexp.MustCompile(`(?s)<figure class="chart".*?</figure>`).FindAllString(page, -1)
	require.Len(t, charts, 2)
	yLabels := regexp.MustCompile(`text-anchor="end" fill="#5b6570">([^<]*)<`)
	require.Len(t, yLabels.FindAllStringSubmatch(charts[0], -1), 2, "sent: its top and 0")
	zero := yLabels.FindAllStringSubmatch(charts[1], -1)
	require.Len(t, zero, 1, "nothing throttled: one 0, not two")
	require.Equal(t, "0", zero[0][1])
	require.Contains(t, charts[1], ">no throttled or retried row<")

	width := regexp.MustCompile(`viewBox="0 0 ([0-9.]+) `)
	tick := regexp.MustCompile(`<text x="([0-9.]+)" y="[0-9.]+" dy="16" text-anchor="middle"[^>]*>([^<]*)<`)
	for _, c := range charts {
		w, err := strconv.ParseFloat(width.FindStringSubmatch(c)[1], 64)
		require.NoError(t, err)
		ticks := tick.FindAllStringSubmatch(c, -1)
		require.NotEmpty(t, ticks)
		require.Equal(t, "10:03:00", ticks[len(ticks)-1][2], "the last bucket's round time is labelled")
		for _, m := range ticks {
			x, err := strconv.ParseFloat(m[1], 64)
			require.NoError(t, err)
			half := 3.5 * float64(len("Jan 2 15:04")) // 11px DejaVu Sans: under 7px a character
			require.LessOrEqual(t, x+half, w, "label %s at %v overflows the chart (%v wide)", m[2], x, w)
			require.GreaterOrEqual(t, x-half, 0.0, m[2])
		}
	}
}

// The page counts the invitations apart when the campaign has any, and says nothing of
// them otherwise.
func TestHTMLCountsInvitations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	adam := row("adam", job.StatusSent, 11)
	adam.Message = job.MessageInvitation
	una := row("una", job.StatusSent, 10)
	una.Message = job.MessageConfirmation
	set, err := reportset.Read(writeReport(t, dir, "r.csv", []job.Result{una, adam}, ""))
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, set.WriteHTML(&b, reportset.PageOptions{}))
	require.Contains(t, b.String(), `<div class="v" data-k="invitations.sent">1</div><div class="l">invitations sent (of the users sent)</div>`)
	require.Contains(t, b.String(), `<td class="n" data-k="invitations.sent">1</td>`)

	set, err = reportset.Read(writeReport(t, dir, "old.csv", []job.Result{row("una", job.StatusSent, 10)}, ""))
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, set.WriteHTML(&b, reportset.PageOptions{}))
	require.NotContains(t, b.String(), "invitations")
}
