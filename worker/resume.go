package worker

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
)

// ResumeState is what earlier runs of a campaign recorded in its report and ledger.
type ResumeState struct {
	// Final holds the usernames that have a final row: they are never called again.
	Final *SeenSet
	// Done holds the source refs (CSV lines) that have a row: they get no second row.
	Done *RefSet
	// Unknown are intents with no row: the process stopped between the call and its
	// row. Unless --retry-unknown, they are reported `unknown` and not called.
	Unknown []LedgerRecord
	// Rows is the number of valid rows read; Skipped counts torn or foreign lines.
	Rows, Skipped int
}

// ResumeOptions says how earlier rows count.
type ResumeOptions struct {
	// RetryUnknown: `unknown` rows don't count as final; those users are called again.
	RetryUnknown bool
	// Queue: the source redelivers what it wants retried (SQS), so only outcomes after
	// which another call is pointless or harmful count as final: sent, already_confirmed,
	// user_not_found, unknown. A message left for a retry (failed after throttles,
	// limit_exceeded) must not come back as a duplicate and be deleted.
	Queue bool
}

// queueFinal are the statuses that stop a redelivered queue message from being called.
var queueFinal = map[Status]bool{StatusSent: true, StatusAlreadyConfirmed: true,
	StatusUserNotFound: true, StatusUnknown: true}

// LoadResume reads a campaign's report and ledger. Every line is parsed on its own, so a
// line torn by kill -9 is skipped without swallowing its neighbours.
func LoadResume(reportPath string, opts ResumeOptions) (*ResumeState, error) {
	retryUnknown := opts.RetryUnknown
	format, err := FormatForPath(reportPath)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(reportPath)
	if err != nil {
		return nil, fmt.Errorf("--resume needs the campaign's report: %w", err)
	}
	defer f.Close()
	st := &ResumeState{Final: NewSeenSet(), Done: NewRefSet()}

	first := true
	err = eachLine(f, func(line []byte) {
		if first && format == FormatCSV {
			first = false
			return // header, checked below
		}
		first = false
		row, ok := parseReportLine(format, line)
		if !ok {
			st.Skipped++
			return
		}
		st.Rows++
		if retryUnknown && row.Status == StatusUnknown {
			return // called again; its line gets a second, final row
		}
		st.Done.Add(row.SourceRef)
		if !opts.Queue || queueFinal[row.Status] {
			st.Final.Add(row.Username)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if format == FormatCSV {
		if err := checkCSVHeader(reportPath); err != nil {
			return nil, err
		}
	}

	// Ledger: keep only intents without a row (a small set), in file order.
	lf, err := os.Open(LedgerPath(reportPath))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	defer lf.Close()
	pending := map[string]LedgerRecord{}
	var order []string
	err = eachLine(lf, func(line []byte) {
		var rec LedgerRecord
		if json.Unmarshal(line, &rec) != nil || rec.SourceRef == "" {
			return // torn
		}
		if st.Done.Has(rec.SourceRef) {
			return
		}
		switch rec.Event {
		case LedgerStart:
			if _, ok := pending[rec.SourceRef]; !ok {
				order = append(order, rec.SourceRef)
			}
			pending[rec.SourceRef] = rec
		case LedgerAbandon:
			delete(pending, rec.SourceRef)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	for _, ref := range order {
		if rec, ok := pending[ref]; ok {
			st.Unknown = append(st.Unknown, rec)
			delete(pending, ref)
		}
	}
	return st, nil
}

// UnknownResult is the report row of an intent without an outcome.
func UnknownResult(rec LedgerRecord, now Clock) Result {
	t := now.Now().UTC()
	return Result{Username: rec.Username, Status: StatusUnknown, SourceRef: rec.SourceRef,
		ErrorCode: "Unknown",
		ErrorMessage: "the run stopped after the call was started and before its outcome was recorded; " +
			"the user may have received a code. Not called again (use --retry-unknown to call)",
		StartedAt: t, FinishedAt: t, Class: ClassPerUser}
}

func checkCSVHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if line == "" {
		return nil // killed before the header reached the disk: OpenReport writes it
	}
	rec, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil || !slices.Equal(rec, ReportColumns) {
		return fmt.Errorf("report %s: its header is not cognito-resend's (%s); refusing to append", path, strings.Join(ReportColumns, ","))
	}
	return nil
}

func parseReportLine(format ReportFormat, line []byte) (Result, bool) {
	switch format {
	case FormatCSV:
		rec, err := csv.NewReader(strings.NewReader(string(line))).Read()
		if err != nil || len(rec) != len(ReportColumns) {
			return Result{}, false
		}
		st := Status(rec[1])
		if !st.Final() {
			return Result{}, false
		}
		return Result{Username: rec[0], Status: st, SourceRef: rec[9]}, true
	case FormatJSONL:
		var row jsonRow
		if json.Unmarshal(line, &row) != nil || !row.Status.Final() {
			return Result{}, false
		}
		return Result{Username: row.Username, Status: row.Status, SourceRef: row.SourceRef}, true
	}
	return Result{}, false
}

// eachLine calls fn for every non-empty line (without its newline), of any length.
func eachLine(r io.Reader, fn func([]byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if l := strings.TrimRight(string(line), "\r\n"); l != "" {
			fn([]byte(l))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// RefSet is a set of source refs, stored as 64-bit hashes.
type RefSet struct {
	mu   sync.Mutex
	seed maphash.Seed
	set  u64set
}

// NewRefSet returns an empty set.
func NewRefSet() *RefSet { return &RefSet{seed: maphash.MakeSeed()} }

// Add records ref.
func (s *RefSet) Add(ref string) {
	k := maphash.String(s.seed, ref)
	s.mu.Lock()
	s.set.add(k)
	s.mu.Unlock()
}

// Has reports whether ref was added.
func (s *RefSet) Has(ref string) bool {
	k := maphash.String(s.seed, ref)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.has(k)
}

// SkipDone wraps a source and drops jobs whose row an earlier run already wrote.
type SkipDone struct {
	Source
	Done    *RefSet
	Skipped int
}

// Next returns the next job without a row.
func (s *SkipDone) Next(ctx context.Context) (Job, error) {
	for {
		j, err := s.Source.Next(ctx)
		if err != nil || !s.Done.Has(j.SourceRef) {
			return j, err
		}
		s.Skipped++
	}
}
