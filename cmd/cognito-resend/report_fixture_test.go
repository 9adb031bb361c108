package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// campaignFixture is a campaign's reports as the tool writes them, with what they must
// add up to, worked out here from the story rather than by the code under test:
//
//   - two replicas, a.jsonl (even users) and b.csv (odd users), about 10 rows/s each
//     from t0; a throttling episode between 40 s and 60 s (rows retried, some failing
//     with TooManyRequestsException after 8 attempts); per-user answers scattered;
//   - replica a is killed at ~90 s mid-write (a torn last line) and resumed at 150 s
//     (records.OpenReport appending: the torn line is ended, two users become unknown);
//   - a retry run, c.csv, at 400 s over the failed and limit_exceeded users (some typed
//     in upper case): most are sent, the rest stay as they were;
//   - the pool compares usernames case-insensitively (each report's input record says so).
type campaignFixture struct {
	dir    string
	paths  []string
	final  map[string]job.Status // final status by lower-case username
	first  map[string]string     // the spelling of the winning row
	rows   int
	tries  int
	torn   int // malformed lines
	t0, t1 time.Time
}

func newCampaignFixture(t *testing.T, users int) *campaignFixture {
	t.Helper()
	f := &campaignFixture{dir: t.TempDir(), final: map[string]job.Status{}, first: map[string]string{},
		t0: time.Date(2026, 5, 12, 9, 30, 0, 0, time.UTC)}
	rng := rand.New(rand.NewPCG(13, 13))
	open := func(name string, appendMode bool) records.Writer {
		w, err := records.OpenReport(filepath.Join(f.dir, name), appendMode)
		require.NoError(t, err)
		return w
	}
	write := func(w records.Writer, r job.Result) {
		require.NoError(t, w.Write(r))
		key := strings.ToLower(r.Username)
		if r.Status != job.StatusDuplicate || f.final[key] == "" {
			f.final[key], f.first[key] = r.Status, r.Username
		}
		f.rows++
		f.tries += r.Attempts
		if r.FinishedAt.After(f.t1) {
			f.t1 = r.FinishedAt
		}
	}
	outcome := func(user string, start time.Time, throttled bool) job.Result {
		r := job.Result{Username: user, Status: job.StatusSent, Attempts: 1, StartedAt: start,
			FinishedAt: start.Add(time.Duration(80+rng.IntN(60)) * time.Millisecond), RequestID: fmt.Sprintf("req-%s", user)}
		switch p := rng.Float64(); {
		case throttled && p < 0.06:
			r.Status, r.Attempts, r.ErrorCode, r.ErrorMessage = job.StatusFailed, 8, "TooManyRequestsException", "Rate exceeded"
		case throttled && p < 0.5:
			r.Attempts = 2 + rng.IntN(3)
		case p > 0.985:
			r.Status, r.ErrorCode, r.ErrorMessage = job.StatusLimitExceeded, "LimitExceededException", "Attempt limit exceeded, please try after some time."
		case p > 0.965:
			r.Status, r.ErrorCode, r.ErrorMessage = job.StatusAlreadyConfirmed, "InvalidParameterException", "User is already confirmed."
		case p > 0.955:
			r.Status, r.ErrorCode, r.ErrorMessage = job.StatusFailed, "CodeDeliveryFailureException", "Unable to deliver message to the email address."
		}
		if r.Status == job.StatusSent {
			r.DeliveryMedium, r.Destination, r.AttributeName = "EMAIL", "u***@e***", "email"
		}
		if r.Attempts > 1 {
			r.FinishedAt = r.FinishedAt.Add(time.Duration(r.Attempts) * 400 * time.Millisecond)
		}
		return r
	}
	name := func(i int) string { return fmt.Sprintf("user%04d", i) }

	a, b := open("a.jsonl", false), open("b.csv", false)
	// Replica a is killed three quarters into its run (90 s for 2 400 users): the users
	// after that have no row in it until the resume below.
	killAfter := time.Duration(users/2) * 100 * time.Millisecond * 3 / 4
	var killedAt int
	var retry []string
	for i := range users {
		w, start := a, f.t0.Add(time.Duration(i/2)*100*time.Millisecond)
		if i%2 == 1 {
			w = b
		}
		if i%2 == 0 && start.Sub(f.t0) >= killAfter {
			if killedAt == 0 {
				killedAt = i
			}
			continue // replica a was killed
		}
		s := start.Sub(f.t0)
		r := outcome(name(i), start, s >= 40*time.Second && s < 60*time.Second)
		if i == 7 { // untrusted input: a username and message the page must escape
			r.Username, r.Status, r.ErrorCode, r.ErrorMessage = `<img/src=x/onerror=alert(1)>`, job.StatusFailed,
				"NotAuthorizedException", `User is disabled. <script>alert("x")</script>`
		}
		r.SourceRef = fmt.Sprint(i + 2)
		write(w, r)
		if r.Status == job.StatusFailed && r.ErrorCode != "NotAuthorizedException" || r.Status == job.StatusLimitExceeded {
			retry = append(retry, r.Username)
		}
	}
	require.NoError(t, b.Close())
	require.NoError(t, a.Sync())
	require.NoError(t, a.Close())
	// kill -9 in the middle of a row.
	af, err := os.OpenFile(filepath.Join(f.dir, "a.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = af.WriteString(`{"username":"` + name(killedAt) + `","status":"se`)
	require.NoError(t, err)
	require.NoError(t, af.Close())
	f.torn++

	a = open("a.jsonl", true) // --resume
	resumeAt := f.t0.Add(150 * time.Second)
	for i, j := killedAt, 0; i < users; i, j = i+2, j+1 {
		start := resumeAt.Add(time.Duration(j) * 100 * time.Millisecond)
		var r job.Result
		if j < 2 { // intents without a row
			r = job.Result{Username: name(i), Status: job.StatusUnknown, ErrorCode: "Unknown",
				ErrorMessage: "the run stopped after the call was started and before its outcome was recorded",
				StartedAt:    resumeAt, FinishedAt: resumeAt}
		} else {
			r = outcome(name(i), start, false)
		}
		r.SourceRef = fmt.Sprint(i + 2)
		write(a, r)
	}
	// The same user again further down the CSV: a duplicate row, which supersedes nothing.
	write(a, job.Result{Username: strings.ToUpper(name(0)), Status: job.StatusDuplicate, ErrorCode: "Duplicate",
		ErrorMessage: "username appeared earlier in this run", StartedAt: f.t1, FinishedAt: f.t1, SourceRef: "9999"})
	require.NoError(t, a.Close())

	c := open("c.csv", false) // the retry run
	retryAt := f.t0.Add(400 * time.Second)
	for j, u := range retry {
		if j%3 == 0 {
			u = strings.ToUpper(u)
		}
		start := retryAt.Add(time.Duration(j) * 250 * time.Millisecond)
		r := job.Result{Username: u, Status: job.StatusSent, Attempts: 1, StartedAt: start,
			FinishedAt: start.Add(90 * time.Millisecond), SourceRef: fmt.Sprint(j + 2)}
		if j%4 == 3 {
			r.Status, r.ErrorCode, r.ErrorMessage = job.StatusLimitExceeded, "LimitExceededException", "Attempt limit exceeded, please try after some time."
		}
		write(c, r)
	}
	require.NoError(t, c.Close())
	f.paths = []string{filepath.Join(f.dir, "a.jsonl"), filepath.Join(f.dir, "b.csv"), filepath.Join(f.dir, "c.csv")}
	// Each run recorded its input and its case rule beside its report, as the tool does:
	// the pool compares usernames case-insensitively, so the reports merge that way.
	for _, p := range f.paths {
		in := records.Input{Source: records.InputCSV, CSV: filepath.Join(f.dir, "users.csv"), UsernameCase: records.CaseInsensitiveName}
		require.NoError(t, records.WriteInput(p, in, f.t0, true))
	}
	return f
}

// count is the number of users whose final status is one of statuses.
func (f *campaignFixture) count(statuses ...job.Status) int {
	n := 0
	for _, st := range f.final {
		for _, s := range statuses {
			if st == s {
				n++
			}
		}
	}
	return n
}
