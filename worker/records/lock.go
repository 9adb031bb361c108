package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// One run per report. Two runs on one report each read the other's intents without an
// outcome as `unknown` (or none at all) and call the same users; nothing else stops
// them. A run holds an exclusive OS lock (flock; LockFileEx on Windows) on LockPath for
// its whole life — the kernel drops it with the process, so a kill -9 leaves nothing
// that blocks the next run, which a pid file would. The file says who holds it.

// LockPath is the lock file of a report.
func LockPath(reportPath string) string { return reportPath + ".lock" }

// InUseError: another process holds the report's lock.
type InUseError struct {
	Report string
	Holder string // "pid 1234, started 2026-…" as the holder wrote it; "" if unreadable
}

func (e *InUseError) Error() string {
	who := ""
	if e.Holder != "" {
		who = " (" + e.Holder + ")"
	}
	// Never "another --report": a new report of the same input starts the campaign over
	// beside the running one and calls every user a second time (trial 4).
	return fmt.Sprintf("report %s is in use by another cognito-resend run%s: two runs on one report would call "+
		"the same users twice. Wait for it to end, or stop it (Ctrl-C where it runs, or kill -TERM on its pid: it "+
		"stops softly) and continue it with --resume. Another --report is no way round: it would start the campaign "+
		"over beside that run and call every user a second time", e.Report, who)
}

// errLocked is what tryLock returns when another process holds the lock.
var errLocked = errors.New("locked")

// Lock is a held report lock.
type Lock struct {
	f    *os.File
	path string
}

// LockReport takes the report's lock without waiting (an *InUseError when another
// process holds it) and writes who holds it. Release gives it back; so does the end of
// the process.
func LockReport(reportPath string, now time.Time) (*Lock, error) {
	path := LockPath(reportPath)
	for range 10 { // a file removed by its holder between our open and our lock: again
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock the report: %w", err)
		}
		if err := tryLock(f); err != nil {
			holder, _ := os.ReadFile(path)
			_ = f.Close()
			if errors.Is(err, errLocked) {
				first, _, _ := strings.Cut(string(holder), "\n")
				return nil, &InUseError{Report: reportPath, Holder: strings.TrimSpace(first)}
			}
			return nil, fmt.Errorf("lock the report (%s): %w", path, err)
		}
		if !samePath(f, path) {
			_ = f.Close()
			continue
		}
		if err := f.Truncate(0); err == nil {
			_, _ = fmt.Fprintf(f, "pid %d, started %s\n", os.Getpid(), now.UTC().Format(time.RFC3339))
		}
		return &Lock{f: f, path: path}, nil
	}
	return nil, &InUseError{Report: reportPath}
}

// samePath: the file we locked is still the one at path (its holder may have removed
// it on release after we opened it).
func samePath(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// Release removes the lock file and gives the lock back (nil: nothing).
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := releaseLock(l.f, l.path)
	l.f = nil
	return err
}

// lockInputPrefix starts the lock file's line that says what the holding run reads
// (RecordInput): a run of the same input without --report finds it (RunningOf) before
// it lists or counts anything.
const lockInputPrefix = "input "

// RecordInput writes what the run holding l reads into its lock file, after who holds
// it: the same command started again while this one lists the pool (its report and
// .input not written yet) is refused at once (RunningOf), not after its own listing.
func (l *Lock) RecordInput(in Input) error {
	if l == nil || l.f == nil {
		return nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(l.f, "%s%s\n", lockInputPrefix, b)
	return err
}

// Running is a run in progress on a report of dir (its lock held by another process).
type Running struct {
	Report string
	Holder string // "pid 1234, started …"
}

// RunningOf lists the runs in progress in dir whose lock records the input now
// (SameInput), but for the report except (this run's own). Probing a lock takes it for
// an instant: a run starting on that very report in that instant is told it is in use.
func RunningOf(dir string, now Input, except string) []Running {
	locks, _ := filepath.Glob(filepath.Join(dir, "*.lock"))
	var out []Running
	for _, path := range locks {
		report := strings.TrimSuffix(path, ".lock")
		if filepath.Clean(report) == filepath.Clean(except) {
			continue
		}
		body, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		first, rest, _ := strings.Cut(string(body), "\n")
		line, _, _ := strings.Cut(rest, "\n")
		var in Input
		if !strings.HasPrefix(line, lockInputPrefix) ||
			json.Unmarshal([]byte(strings.TrimPrefix(line, lockInputPrefix)), &in) != nil || !in.SameInput(now) {
			continue
		}
		if !held(path) {
			continue // its run ended without removing it (killed): nothing runs
		}
		if dir == "." {
			report = filepath.Base(report)
		}
		out = append(out, Running{Report: report, Holder: strings.TrimSpace(first)})
	}
	return out
}

// held reports whether another process holds the lock file at path.
func held(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close() // gives back what the probe took
	return errors.Is(tryLock(f), errLocked)
}
