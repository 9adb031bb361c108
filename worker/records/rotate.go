package records

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// RotatingJournal is the part of the ledger a RotatingReport drives: the ledger is
// rotated together with its report, so a report and its ledger always come in pairs.
// *Ledger implements it.
type RotatingJournal interface {
	// TrackPending starts remembering intents without a durable row.
	TrackPending()
	// Settle forgets the intents of source refs whose rows are durable.
	Settle(refs ...string)
	// Rotate moves the current file to rotatedPath (failing with os.ErrExist rather
	// than replacing a file) and continues in a fresh file, carrying the intents that
	// have no row yet over into it.
	Rotate(rotatedPath string) error
}

var _ RotatingJournal = (*IntentLog)(nil)

// Defaults of --report-keep and of --report-max-size in queue mode.
const (
	KeepDefault = 4
	// QueueRotateSizeDefault: a long-lived queue worker's report must not outgrow its
	// volume.
	QueueRotateSizeDefault = 64 << 20
)

// RotateOptions configure a RotatingReport.
type RotateOptions struct {
	// MaxSize is the report size, in bytes, at which it is rotated; <= 0 never rotates.
	MaxSize int64
	// Keep is how many rotated report+ledger pairs are kept; older ones are deleted.
	Keep int
	// Journal is rotated with the report (the ledger); nil rotates the report alone.
	Journal RotatingJournal
	Clock   clock.Clock
	Logger  *slog.Logger
}

// rotateRetry is the schedule of a failed rotation: tried again a minute later, at the
// first Sync after that (the rows keep going to the current file meanwhile). The writer
// never sleeps on it: the delay is scheduled (pacing.Policy.Delay), not waited.
var rotateRetry = pacing.Policy{Base: time.Minute, Max: time.Minute, Exact: true}

// RotatingReport is a Writer that rotates its file by size, for long-lived queue
// workers. Rotation happens inside Sync, after the rows written so far are durable: a
// report that has reached MaxSize (and its ledger) is moved to
// <base>-<UTC time>.<ext> (and <base>-<UTC time>.<ext>.ledger; a counter is added when
// the name is taken, nothing is overwritten), and a fresh report with its header, made
// durable before it takes the name, continues at the original path, mode 0600. Rotated
// pairs beyond Keep are deleted, oldest first. No row is written twice or lost, no file
// is rewritten in place, and the original path always names a complete report.
//
// A failed rotation is logged and retried later; it never fails Sync, since the rows
// are durable by then. Like every Writer it is used by one goroutine.
type RotatingReport struct {
	path    string
	format  Format
	opts    RotateOptions
	cur     Writer
	refs    []string // source refs written since the last Sync
	retryAt time.Time
	n       int
}

var _ Writer = (*RotatingReport)(nil)

// NewRotatingReport wraps w, the report just opened at path (OpenReport), with rotation.
// Call it before any intent is recorded in opts.Journal.
func NewRotatingReport(path string, w Writer, opts RotateOptions) (*RotatingReport, error) {
	format, err := FormatForPath(path)
	if err != nil {
		return nil, err
	}
	opts.Clock = clock.Must(opts.Clock, "records.NewRotatingReport")
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Keep = max(opts.Keep, 0)
	if opts.Journal != nil {
		opts.Journal.TrackPending()
	}
	return &RotatingReport{path: path, format: format, opts: opts, cur: w}, nil
}

// Rotations is the number of rotations done so far.
func (r *RotatingReport) Rotations() int { return r.n }

// Write buffers a row in the current file.
func (r *RotatingReport) Write(res job.Result) error {
	if err := r.cur.Write(res); err != nil {
		return err
	}
	// A duplicate row made no call and recorded no intent; its source ref may be that of
	// a redelivered message whose first delivery is still in flight, and that intent
	// must stay pending.
	if r.opts.Journal != nil && res.Status != job.StatusDuplicate {
		r.refs = append(r.refs, res.SourceRef)
	}
	return nil
}

// Sync makes the rows written so far durable, then rotates if the report is full.
func (r *RotatingReport) Sync() error {
	if err := r.cur.Sync(); err != nil {
		return err
	}
	if r.opts.Journal != nil && len(r.refs) > 0 {
		r.opts.Journal.Settle(r.refs...)
		r.refs = r.refs[:0]
	}
	if r.opts.MaxSize <= 0 {
		return nil
	}
	now := r.opts.Clock.Now()
	if now.Before(r.retryAt) {
		return nil
	}
	st, err := os.Stat(r.path)
	if err != nil || st.Size() < r.opts.MaxSize {
		return nil // not full (a failed stat only postpones the rotation)
	}
	if err := r.rotate(now); err != nil {
		d := rotateRetry.Delay(1)
		r.retryAt = now.Add(d)
		r.opts.Logger.Warn("report rotation failed; writing on to the current report, retrying later",
			"report", r.path, "error", err, "retry_in", d.String())
	}
	return nil
}

// Close closes the current report.
func (r *RotatingReport) Close() error { return r.cur.Close() }

const rotateStamp = "20060102T150405Z"

func (r *RotatingReport) rotatedName(stamp string, n int) string {
	ext := filepath.Ext(r.path)
	name := strings.TrimSuffix(r.path, ext) + "-" + stamp
	if n > 0 {
		name += "-" + strconv.Itoa(n)
	}
	return name + ext
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, os.ErrNotExist)
}

const maxRotateNames = 10000

func (r *RotatingReport) rotate(now time.Time) error {
	stamp := now.UTC().Format(rotateStamp)
	n := 0
	// The ledger first: if the report's move then fails, the current pair is still
	// coherent (a row without a start in this ledger is complete; the reverse, starts
	// whose rows went away with a rotated report, would read as `unknown`).
	for ; ; n++ {
		if n == maxRotateNames {
			return fmt.Errorf("no free name for the rotated report %s", r.rotatedName(stamp, 0))
		}
		name := r.rotatedName(stamp, n)
		if exists(name) || exists(LedgerPath(name)) {
			continue
		}
		if r.opts.Journal == nil {
			break
		}
		err := r.opts.Journal.Rotate(LedgerPath(name))
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return err
		}
	}

	// The fresh report, header included, is durable before it takes the path.
	f, tmp, err := createTemp(r.path)
	if err != nil {
		return fmt.Errorf("report rotation: %w", err)
	}
	w, err := newWriter(f, r.format, true)
	if err == nil {
		err = w.Sync()
	}
	if err != nil {
		return errors.Join(fmt.Errorf("report rotation: %w", err), discardTemp(f, tmp))
	}
	var rotated string
	for ; ; n++ {
		if n == maxRotateNames {
			return errors.Join(fmt.Errorf("no free name for the rotated report %s", r.rotatedName(stamp, 0)), discardTemp(f, tmp))
		}
		rotated = r.rotatedName(stamp, n)
		err := swapIn(r.path, rotated, tmp)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return errors.Join(fmt.Errorf("report rotation: %w", err), discardTemp(f, tmp))
		}
	}
	old := r.cur
	r.cur = w
	r.n++
	if err := old.Close(); err != nil { // synced just before: nothing is lost
		r.opts.Logger.Warn("closing the rotated report", "report", rotated, "error", err)
	}
	r.opts.Logger.Info("report rotated", "report", r.path, "rotated", rotated, "keep", r.opts.Keep)
	r.prune()
	return nil
}

// prune deletes the rotated pairs of this report beyond Keep, oldest first.
func (r *RotatingReport) prune() {
	dir, file := filepath.Split(r.path)
	ext := filepath.Ext(file)
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(strings.TrimSuffix(file, ext)) +
		`-(\d{8}T\d{6}Z)(?:-(\d+))?` + regexp.QuoteMeta(ext) + `(?:\.ledger)?$`)
	entries, err := os.ReadDir(cmp.Or(dir, "."))
	if err != nil {
		r.opts.Logger.Warn("listing rotated reports", "error", err)
		return
	}
	type stem struct {
		stamp string
		n     int
		files []string
	}
	stems := map[string]*stem{}
	for _, e := range entries {
		m := re.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		key := m[1] + "/" + m[2]
		s := stems[key]
		if s == nil {
			n, _ := strconv.Atoi(m[2])
			s = &stem{stamp: m[1], n: n}
			stems[key] = s
		}
		s.files = append(s.files, filepath.Join(dir, e.Name()))
	}
	if len(stems) <= r.opts.Keep {
		return
	}
	sorted := make([]*stem, 0, len(stems))
	for _, s := range stems {
		sorted = append(sorted, s)
	}
	slices.SortFunc(sorted, func(a, b *stem) int { // newest first
		return cmp.Or(strings.Compare(b.stamp, a.stamp), cmp.Compare(b.n, a.n))
	})
	for _, s := range sorted[r.opts.Keep:] {
		for _, f := range s.files {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				r.opts.Logger.Warn("deleting an old rotated report", "file", f, "error", err)
			}
		}
	}
}

// createTemp creates the fresh file that will replace path (mode 0600), under a
// temporary name beside it; a leftover from a crash is removed first.
func createTemp(path string) (*os.File, string, error) {
	tmp := path + ".rotating"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, "", err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, "", err
	}
	return f, tmp, nil
}

func discardTemp(f *os.File, tmp string) error {
	return errors.Join(f.Close(), os.Remove(tmp))
}

// swapIn gives path's file the name rotated (never replacing a file there: the error
// then wraps os.ErrExist) and moves tmp to path. With hard links, path names a complete
// file at every moment: link, then an atomic rename over it. Without them (some network
// or FUSE file systems) two renames leave path missing for an instant.
func swapIn(path, rotated, tmp string) error {
	err := os.Link(path, rotated)
	switch {
	case err == nil:
		if err := os.Rename(tmp, path); err != nil {
			return errors.Join(err, os.Remove(rotated))
		}
	case errors.Is(err, os.ErrExist):
		return err
	default:
		if exists(rotated) {
			return fmt.Errorf("%s: %w", rotated, os.ErrExist)
		}
		if err := os.Rename(path, rotated); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return errors.Join(err, os.Rename(rotated, path))
		}
	}
	_ = syncDir(filepath.Dir(path)) // best effort: the files themselves are fsync'd
	return nil
}
