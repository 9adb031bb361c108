package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/browser"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// summaryJSON is `report summary --json`, decoded loosely, as a program would.
type summaryJSON struct {
	Files []struct {
		Path      string `json:"path"`
		Rows      int    `json:"rows"`
		Malformed int    `json:"malformed"`
		Foreign   bool   `json:"foreign"`
	} `json:"files"`
	Rows              int            `json:"rows"`
	Users             int            `json:"users"`
	SupersededRows    int            `json:"superseded_rows"`
	Statuses          map[string]int `json:"statuses"`
	ErrorCodes        map[string]int `json:"error_codes"`
	Attempts          int            `json:"attempts"`
	FirstStartedAt    string         `json:"first_started_at"`
	LastFinishedAt    string         `json:"last_finished_at"`
	SpanSeconds       float64        `json:"span_seconds"`
	SendsPerSecond    float64        `json:"sends_per_second"`
	AttemptsPerSecond float64        `json:"attempts_per_second"`
	MalformedLines    int            `json:"malformed_lines"`
	Malformed         []struct {
		File   string `json:"file"`
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	} `json:"malformed"`
}

func reportSummary(t *testing.T, dir string, paths ...string) summaryJSON {
	t.Helper()
	res := runBin(t, dir, baseEnv(""), "", append([]string{"report", "summary", "--json"}, paths...)...)
	require.Equal(t, 0, res.code, res.stderr)
	var s summaryJSON
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &s), res.stdout)
	return s
}

// Several files (replicas, a resume, a retry run; JSONL and CSV), superseding rows, a
// torn line and a foreign file: the summary adds up to what the story says.
func TestReportSummary(t *testing.T) {
	needIntegration(t)
	t.Parallel()
	f := newCampaignFixture(t, 1200)
	foreign := filepath.Join(f.dir, "users.csv")
	require.NoError(t, os.WriteFile(foreign, []byte("username\nuser0001\nuser0002\n"), 0o600))

	s := reportSummary(t, f.dir, append(f.paths, foreign)...)
	require.Equal(t, len(f.final), s.Users)
	require.Equal(t, 1200, s.Users)
	require.Equal(t, f.rows, s.Rows)
	require.Equal(t, f.rows-1200, s.SupersededRows)
	require.Equal(t, f.tries, s.Attempts)
	for _, st := range slices.Concat(job.Statuses, []job.Status{"recently_sent"}) {
		require.Equal(t, f.count(st), s.Statuses[string(st)], st)
	}
	require.Positive(t, s.Statuses["sent"])
	require.Equal(t, 2, s.Statuses["unknown"])
	require.Equal(t, f.t0.Format("2006-01-02T15:04:05.000Z07:00"), s.FirstStartedAt)
	require.Equal(t, f.t1.Format("2006-01-02T15:04:05.000Z07:00"), s.LastFinishedAt)
	require.InDelta(t, f.t1.Sub(f.t0).Seconds(), s.SpanSeconds, 0.001)
	require.InDelta(t, float64(f.count(job.StatusSent))/f.t1.Sub(f.t0).Seconds(), s.SendsPerSecond, 0.0005)
	require.Equal(t, f.torn+3, s.MalformedLines, "the torn line, and the foreign file's three")
	require.True(t, s.Files[3].Foreign)
	require.Len(t, s.Malformed, 2)
	require.Regexp(t, `a\.jsonl$`, s.Malformed[0].File)
	require.Equal(t, foreign, s.Malformed[1].File)
	require.Equal(t, 1, s.Malformed[1].Line)

	// The table, for a person.
	res := runBin(t, f.dir, baseEnv(""), "", append([]string{"report", "summary"}, f.paths...)...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Regexp(t, `(?m)^users\s+1200  \(usernames compared case-insensitively, as the campaign.s dedupe did\)$`, res.stdout)
	require.Regexp(t, `(?m)^sent\s+`+strconv.Itoa(f.count(job.StatusSent))+`\s`, res.stdout)
	require.Contains(t, res.stdout, "1 malformed lines")
	require.Regexp(t, `a\.jsonl:\d+: not a report row`, res.stdout)
	// What the attempts count is: the calls the rows record (an export keeps one row a
	// user, so a redelivered user's earlier calls are not in it).
	require.Regexp(t, `(?m)^attempts\s+\d+\s+\(Cognito calls recorded in the rows\)$`, res.stdout)
}

func TestReportUsageErrors(t *testing.T) {
	needIntegration(t)
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"report", "summary"},
		{"report", "summary", "missing.csv"},
		{"report", "summary", "notes.txt"},
		{"report", "users", "r.csv"}, // --status is required: no "everyone" by default
		{"report", "html", "r.csv"},  // -o is required
	} {
		res := runBin(t, dir, baseEnv(""), "", args...)
		require.Equal(t, 2, res.code, "%v: %s", args, res.stderr)
		require.NotEmpty(t, res.stderr, args)
	}
	// The page is never written over a report it reads.
	r := filepath.Join(dir, "r.csv")
	require.NoError(t, os.WriteFile(r, []byte(strings.Join([]string{"username", "status", "attempts", "error_code",
		"error_message", "delivery_medium", "destination", "attribute_name", "request_id", "source_ref",
		"started_at", "finished_at"}, ",")+"\n"), 0o600))
	res := runBin(t, dir, baseEnv(""), "", "report", "html", "-o", "r.csv", "r.csv")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "is one of the reports being read")
}

// report users → run --csv --dry-run: the retry list counts exactly the users it names,
// and they are exactly the users the story left failed or limit_exceeded.
func TestReportUsersRoundTrip(t *testing.T) {
	needIntegration(t)
	t.Parallel()
	f := newCampaignFixture(t, 1200)
	res := runBin(t, f.dir, baseEnv(""), "", append([]string{"report", "users", "--status", "failed,limit_exceeded",
		"-o", "retry.csv"}, f.paths...)...)
	require.Equal(t, 0, res.code, res.stderr)
	want := f.count(job.StatusFailed, job.StatusLimitExceeded)
	require.Positive(t, want)
	require.Contains(t, res.stderr, strconv.Itoa(want)+" users")
	require.Contains(t, res.stderr, "1 malformed lines skipped")

	out, err := os.Open(filepath.Join(f.dir, "retry.csv"))
	require.NoError(t, err)
	defer out.Close()
	st, err := out.Stat()
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	recs, err := csv.NewReader(out).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"username", "final_status"}, recs[0])
	got := map[string]bool{}
	for _, rec := range recs[1:] {
		key := strings.ToLower(rec[0])
		require.False(t, got[key], "listed twice: %s", rec[0])
		got[key] = true
		require.Contains(t, []job.Status{job.StatusFailed, job.StatusLimitExceeded}, f.final[key], rec[0])
		require.Equal(t, string(f.final[key]), rec[1], rec[0])
		require.Equal(t, f.first[key], rec[0], "the spelling of the user's final row")
	}
	require.Len(t, got, want)

	dry := runBin(t, f.dir, baseEnv(""), "", "run", "--csv", "retry.csv", "--dry-run", "--client-id", "x")
	require.Equal(t, 0, dry.code, dry.stderr)
	require.Regexp(t, `(?m)^rows read:\s+`+strconv.Itoa(want)+`$`, dry.stdout)
	require.Regexp(t, `(?m)^to send:\s+`+strconv.Itoa(want)+`$`, dry.stdout)
	require.Regexp(t, `(?m)^invalid:\s+0$`, dry.stdout)
	require.Regexp(t, `(?m)^duplicates:\s+0$`, dry.stdout)

	// Any statuses the reports hold; a typo is a usage error with a suggestion.
	res = runBin(t, f.dir, baseEnv(""), "", append([]string{"report", "users", "--status", "unknown"}, f.paths...)...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Regexp(t, `^username,final_status\nuser\d{4},unknown\nuser\d{4},unknown\n$`, res.stdout, "the two unknown users")
	res = runBin(t, f.dir, baseEnv(""), "", append([]string{"report", "users", "--status", "unknown", "--status", "faild"}, f.paths...)...)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, `"faild" is not a status (did you mean failed?)`)
}

// The page, rendered in headless Chromium, shows the numbers `report summary --json`
// gives for the same files, and loads nothing from anywhere.
func TestReportHTMLInChromium(t *testing.T) {
	needIntegration(t)
	t.Parallel()
	b := browser.Find(t)
	f := newCampaignFixture(t, 2400)
	names := []string{"a.jsonl", "b.csv", "c.csv"} // as an operator types them, in the fixture's directory
	s := reportSummary(t, f.dir, names...)
	res := runBin(t, f.dir, baseEnv(""), "", append([]string{"report", "html", "-o", "campaign.html"}, names...)...)
	require.Equal(t, 0, res.code, res.stderr)
	page := filepath.Join(f.dir, "campaign.html")
	src, err := os.ReadFile(page)
	require.NoError(t, err)

	shot := filepath.Join(f.dir, "report-html.png")
	r := b.Render(t.Context(), t, page, browser.Options{Width: 1000, Height: 1830, Screenshot: shot})
	require.Empty(t, r.Requests, "the page made network requests")
	require.Empty(t, browser.Fetches(r.DOM), "the rendered DOM references something to load")
	require.Empty(t, browser.Fetches(string(src)), "the file references something to load")
	require.NotContains(t, r.DOM, "<img", "an untrusted username became markup")
	require.Contains(t, r.DOM, "&lt;img/src=x/onerror=alert(1)&gt;")

	want := map[string]string{
		"users": strconv.Itoa(s.Users), "rows": strconv.Itoa(s.Rows), "superseded_rows": strconv.Itoa(s.SupersededRows),
		"attempts": strconv.Itoa(s.Attempts), "malformed_lines": strconv.Itoa(s.MalformedLines),
		"first_started_at": s.FirstStartedAt, "last_finished_at": s.LastFinishedAt,
	}
	for st, n := range s.Statuses {
		want["statuses."+st] = strconv.Itoa(n)
	}
	for code, n := range s.ErrorCodes {
		want["error_codes."+code] = strconv.Itoa(n)
	}
	floats := map[string]float64{"span_seconds": s.SpanSeconds, "sends_per_second": s.SendsPerSecond,
		"attempts_per_second": s.AttemptsPerSecond}
	shown := browser.Texts(r.DOM, "data-k")
	for k, v := range want {
		require.NotEmpty(t, shown[k], "the page does not show %s", k)
		for _, got := range shown[k] {
			require.Equal(t, v, got, k)
		}
	}
	for k, v := range floats {
		require.Len(t, shown[k], 1, k)
		got, err := strconv.ParseFloat(shown[k][0], 64)
		require.NoError(t, err, k)
		require.Equal(t, v, got, k)
	}
	require.Regexp(t, regexp.MustCompile(`sent rows per second`), r.DOM)
	require.Regexp(t, regexp.MustCompile(`throttled or retried rows per \d+s`), r.DOM)

	if os.Getenv("COGNITO_RESEND_UPDATE_SCREENSHOT") == "1" {
		png, err := os.ReadFile(shot)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join("..", "..", "docs", "report-html.png"), png, 0o644))
	}
}
