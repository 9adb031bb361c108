package records

import (
	"github.com/cognito-resend/cognito-resend/worker/admit"

	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// What binds a report to its input. A report's rows name their line (source_ref) and
// user; resume skips a line that has a row, so a report resumed with another or an
// edited CSV would skip users on the strength of line numbers alone. The report keeps
// beside it (InputPath) what it was made from: the source, and for a CSV file its
// identity; ResumeState.Matches checks each line against the rows themselves.

// Input kinds: what a campaign reads its users from.
const (
	InputCSV   = "csv"
	InputPool  = "user_pool"
	InputQueue = "sqs"
)

// Input is what a campaign's report was made from.
type Input struct {
	Source string `json:"source"` // InputCSV, InputPool or InputQueue
	// CSV is the file's absolute path ("-": standard input); Size and SHA256 are its
	// length and digest when the campaign started (none for standard input).
	CSV        string `json:"csv,omitempty"`
	Size       int64  `json:"size,omitempty"`
	SHA256     string `json:"sha256,omitempty"`
	UserPoolID string `json:"user_pool_id,omitempty"`
	QueueURL   string `json:"sqs_queue_url,omitempty"`
	// UsernameCase is the rule the campaign's dedupe compared usernames by
	// (CaseSensitiveName or CaseInsensitiveName), so that the reports merge rows as the
	// run did (reportset); empty in records written before it was kept.
	UsernameCase string `json:"username_case,omitempty"`
	// Recorded is when the record was written (the campaign's first run, or the first
	// resume of a report made before reports were bound).
	Recorded string `json:"recorded,omitempty"`
	// DailyBudget and BudgetReset are the campaign's --daily-budget and --budget-reset as
	// it started (0: none): a --resume without --daily-budget keeps them. Not part of
	// Same: the input, not how fast it is sent.
	DailyBudget int    `json:"daily_budget,omitempty"`
	BudgetReset string `json:"budget_reset,omitempty"`
}

// The values of Input.UsernameCase.
const (
	CaseSensitiveName   = "sensitive"
	CaseInsensitiveName = "insensitive"
)

// CaseName is c as Input.UsernameCase says it.
func CaseName(c admit.Case) string {
	if c == admit.CaseSensitive {
		return CaseSensitiveName
	}
	return CaseInsensitiveName
}

// InputPath is where the record of a report's input lives.
func InputPath(reportPath string) string { return reportPath + ".input" }

// CSVInput describes the CSV at path ("-": standard input) as it is now.
func CSVInput(path string) (Input, error) {
	in := Input{Source: InputCSV, CSV: path}
	if path == "-" {
		return in, nil
	}
	if abs, err := filepath.Abs(path); err == nil {
		in.CSV = abs
	}
	f, err := os.Open(path)
	if err != nil {
		return in, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return in, err
	}
	in.Size, in.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return in, nil
}

// Same reports whether in and now name the same source (the same pool, the same queue,
// or a CSV: any CSV, whose lines ResumeState.Matches checks), and if not says why.
func (in Input) Same(now Input) (bool, string) {
	if in.Source != now.Source {
		return false, fmt.Sprintf("the report was made from %s, not %s", in, now)
	}
	switch in.Source {
	case InputPool:
		if in.UserPoolID != now.UserPoolID {
			return false, fmt.Sprintf("the report was made from user pool %s, not %s", in.UserPoolID, now.UserPoolID)
		}
	case InputQueue:
		if in.QueueURL != now.QueueURL {
			return false, fmt.Sprintf("the report was made from queue %s, not %s", in.QueueURL, now.QueueURL)
		}
	}
	return true, ""
}

// String names the input for the operator.
func (in Input) String() string {
	switch in.Source {
	case InputCSV:
		if in.CSV == "-" {
			return "a CSV on standard input"
		}
		return "CSV " + in.CSV
	case InputPool:
		return "user pool " + in.UserPoolID
	case InputQueue:
		return "queue " + in.QueueURL
	}
	return "source " + in.Source
}

// CSVRelation says how the CSV file at path compares with the one the report was made
// from (in): "same" (the same bytes), "appended" (those bytes, then more: the lines
// after them are new work), or "changed" (anything else; each line with a row is still
// checked against it). "" when either is standard input or can't be read.
func (in Input) CSVRelation(path string) string {
	if in.Source != InputCSV || in.SHA256 == "" || path == "-" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, in.Size))
	if err != nil {
		return ""
	}
	if n != in.Size || hex.EncodeToString(h.Sum(nil)) != in.SHA256 {
		return "changed"
	}
	if more, _ := f.Read(make([]byte, 1)); more > 0 {
		return "appended"
	}
	return "same"
}

// ReadInput reads the record of the report's input; ok is false when there is none (a
// report made before reports were bound, or a run killed before it was written).
func ReadInput(reportPath string) (in Input, ok bool, err error) {
	b, err := os.ReadFile(InputPath(reportPath))
	if errors.Is(err, os.ErrNotExist) {
		return in, false, nil
	}
	if err != nil {
		return in, false, fmt.Errorf("read the report's input record: %w", err)
	}
	if err := json.Unmarshal(bytes.TrimSpace(b), &in); err != nil || in.Source == "" {
		return in, false, fmt.Errorf("%s: not a record of a report's input (remove it to resume without the check)", InputPath(reportPath))
	}
	return in, true, nil
}

// WriteInput records the report's input beside it (mode 0600, durable). A new campaign
// (fresh) replaces a record left by a report that is gone; a resumed one keeps the
// record it has: the first record of a campaign is the one it is bound to.
func WriteInput(reportPath string, in Input, now time.Time, fresh bool) error {
	in.Recorded = now.UTC().Format(time.RFC3339)
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	path := InputPath(reportPath)
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !fresh {
		flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record the report's input: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = syncFile(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("record the report's input: %w", err)
	}
	return nil
}

// SameInput reports whether two records name the same input: a CSV with the same bytes
// (digest), the same user pool, the same queue.
func (in Input) SameInput(now Input) bool {
	if in.Source != now.Source {
		return false
	}
	switch in.Source {
	case InputCSV:
		return in.SHA256 != "" && in.SHA256 == now.SHA256
	case InputPool:
		return in.UserPoolID == now.UserPoolID
	case InputQueue:
		return in.QueueURL == now.QueueURL
	}
	return false
}

// ReportsOf lists the reports in dir made from the input now (SameInput), newest record
// first: what a run without --report would repeat. Unreadable records are skipped.
func ReportsOf(dir string, now Input) []string {
	recs, _ := filepath.Glob(filepath.Join(dir, "*.input"))
	type found struct{ report, at string }
	var out []found
	for _, r := range recs {
		report := strings.TrimSuffix(r, ".input")
		if _, err := os.Stat(report); err != nil {
			continue
		}
		in, ok, err := ReadInput(report)
		if err != nil || !ok || !in.SameInput(now) {
			continue
		}
		if dir == "." {
			report = filepath.Base(report)
		}
		out = append(out, found{report, in.Recorded})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at > out[j].at })
	names := make([]string, len(out))
	for i, f := range out {
		names[i] = f.report
	}
	return names
}
