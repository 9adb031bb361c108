package reportset

import (
	"cmp"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// TimeLayout is how the summary writes times: RFC 3339, UTC, milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Summary is the campaign in figures: what `report summary --json` prints. The keys are
// stable (docs/reports.md, the `report summary --json` keys); new keys may be added, none renamed.
type Summary struct {
	Files []File `json:"files"`
	// Rows is every row read; Users the distinct users; SupersededRows the rows a later
	// row of the same user replaced (Rows - Users).
	Rows           int `json:"rows"`
	Users          int `json:"users"`
	SupersededRows int `json:"superseded_rows"`
	// DuplicateRows is the rows of status `duplicate` (a line repeating a user the
	// campaign already has, never called): the run summary's duplicate=N. They count in
	// SupersededRows; the user's status is their other row's.
	DuplicateRows int `json:"duplicate_rows"`
	// UsernameCase is how rows merged into users: "sensitive" or "insensitive", the
	// campaign's rule as the reports' input records say (Set.UsernameCase).
	UsernameCase string `json:"username_case"`
	// caseUnrecorded: a file does not record its rule (a ledger export, an older
	// report): the merge is case-sensitive for it, and it may keep one row a user.
	caseUnrecorded bool
	// Statuses counts users by final status: every status this version writes (0 when
	// none), then any other status found.
	Statuses map[job.Status]int `json:"statuses"`
	// Invitations counts, by final status, the users whose final row is an invitation's
	// (message column `invitation`, --invitations); Statuses counts them too. Every
	// status this version writes is there (0 when none).
	Invitations map[job.Status]int `json:"invitations"`
	// ErrorCodes counts users by the error code of their final row ("" is not counted).
	ErrorCodes map[string]int `json:"error_codes"`
	// Attempts is the Cognito calls every row records, superseded rows included.
	Attempts int `json:"attempts"`
	// FirstStartedAt and LastFinishedAt bound the campaign (TimeLayout; "" when no row
	// has them); SpanSeconds is the time between them (0.001 s).
	FirstStartedAt string  `json:"first_started_at"`
	LastFinishedAt string  `json:"last_finished_at"`
	SpanSeconds    float64 `json:"span_seconds"`
	// SendsPerSecond is the users whose final status is `sent` over the span;
	// AttemptsPerSecond the attempts over the span (both to 0.001; 0 without a span).
	SendsPerSecond    float64 `json:"sends_per_second"`
	AttemptsPerSecond float64 `json:"attempts_per_second"`
	// MalformedLines counts lines that are not rows; Malformed names the first
	// MalformedListed of each file.
	MalformedLines int         `json:"malformed_lines"`
	Malformed      []Malformed `json:"malformed"`
}

// Summary computes the campaign's figures.
func (s *Set) Summary() Summary {
	sum := Summary{
		Files: s.Files, Rows: s.rows, Users: len(s.users), SupersededRows: s.superseded,
		UsernameCase: records.CaseName(s.keyCase), caseUnrecorded: s.unrecorded, DuplicateRows: s.duplicates,
		Statuses: map[job.Status]int{}, Invitations: map[job.Status]int{}, ErrorCodes: map[string]int{}, Attempts: s.attempts,
		MalformedLines: s.MalformedLines(), Malformed: s.Malformed,
	}
	if sum.Files == nil {
		sum.Files = []File{}
	}
	if sum.Malformed == nil {
		sum.Malformed = []Malformed{}
	}
	for _, st := range job.Statuses {
		sum.Statuses[st] = 0
		sum.Invitations[st] = 0
	}
	for i := range s.users {
		u := &s.users[i]
		sum.Statuses[s.status(u)]++
		if u.invite {
			sum.Invitations[s.status(u)]++
		}
		if u.code != 0 {
			sum.ErrorCodes[s.code(u)]++
		}
	}
	if !s.first.IsZero() {
		sum.FirstStartedAt = s.first.UTC().Format(TimeLayout)
	}
	if !s.last.IsZero() {
		sum.LastFinishedAt = s.last.UTC().Format(TimeLayout)
	}
	if !s.first.IsZero() && s.last.After(s.first) {
		span := s.last.Sub(s.first).Seconds()
		sum.SpanSeconds = round(span, 3)
		sum.SendsPerSecond = round(float64(sum.Statuses[job.StatusSent])/span, 3)
		sum.AttemptsPerSecond = round(float64(s.attempts)/span, 3)
	}
	return sum
}

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

// Span is SpanSeconds as a duration.
func (s Summary) Span() time.Duration {
	return time.Duration(math.Round(s.SpanSeconds*1e3) * float64(time.Millisecond))
}

// StatusOrder is the order to show statuses in: this version's (job.Statuses), then
// the others found, by name.
func (s Summary) StatusOrder() []job.Status {
	order := slices.Clone(job.Statuses)
	var other []job.Status
	for st := range s.Statuses {
		if !st.Known() {
			other = append(other, st)
		}
	}
	slices.Sort(other)
	return append(order, other...)
}

// CodeCount is one error code of the final rows.
type CodeCount struct {
	Code  string
	Users int
}

// TopErrorCodes is ErrorCodes, most users first (then by code).
func (s Summary) TopErrorCodes() []CodeCount {
	out := make([]CodeCount, 0, len(s.ErrorCodes))
	for _, code := range slices.Sorted(maps.Keys(s.ErrorCodes)) {
		out = append(out, CodeCount{Code: code, Users: s.ErrorCodes[code]})
	}
	slices.SortStableFunc(out, func(a, b CodeCount) int { return cmp.Compare(b.Users, a.Users) })
	return out
}

// InvitationUsers is the number of users whose final row is an invitation's.
func (s Summary) InvitationUsers() int {
	n := 0
	for _, c := range s.Invitations {
		n += c
	}
	return n
}
