package records

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// IntentLog is the intent journal beside the report (<report>.ledger, JSON Lines, 0600).
// Before a user's first call — once its rate token is in hand — a "start" record is made
// durable; the report row made
// durable afterwards is the outcome. A user with a start but no row — the process was
// killed between the two — may or may not have been sent a code, so --resume reports
// them `unknown` instead of calling again. Records from concurrent workers are written
// and fsync'd together (group commit): one fsync covers every intent waiting for it.
type IntentLog struct {
	f     *os.File // touched only by loop (and Close, after it ended)
	path  string
	clock clock.Clock
	reqs  chan ledgerReq
	done  chan struct{}

	// mu guards closed: senders hold it shared while queueing, Close exclusively.
	mu     sync.RWMutex
	closed bool

	errMu sync.Mutex
	err   error // first write/sync error; later Intends fail with it

	// pending, once TrackPending is called: start records without a durable row, in
	// order, carried into the fresh file by Rotate so the current pair stays complete.
	pmu     sync.Mutex
	pending map[string]pendingIntent
	seq     uint64
	// carried are the start records the last rotation copied into the fresh file (loop's
	// own): one still queued when it ran is not written a second time, since a resume
	// pairs every start record with a row.
	carried map[string]struct{}

	// The ledger's own counters (Stats).
	records, syncs   atomic.Int64
	syncNs, waitedNs atomic.Int64
}

// LedgerStats are a ledger's counters since it was opened: what durability cost the
// campaign, in its own terms (on the ledger's clock).
type LedgerStats struct {
	Records int64 // records written (start and abandon)
	Syncs   int64 // groups written and fsync'd: one fsync each
	// SyncTime is the time the groups took to write and fsync, one after another.
	SyncTime time.Duration
	// Waited is the time the callers of Intend waited for their start records to be
	// durable, summed over the callers: with C claimers (the engine's workers and the jobs
	// claimed ahead of a call slot), Waited / (C × the run's time) is the share of their
	// time the ledger took.
	Waited time.Duration
}

// Stats returns the ledger's counters.
func (l *IntentLog) Stats() LedgerStats {
	return LedgerStats{Records: l.records.Load(), Syncs: l.syncs.Load(),
		SyncTime: time.Duration(l.syncNs.Load()), Waited: time.Duration(l.waitedNs.Load())}
}

type pendingIntent struct {
	seq  uint64
	line []byte
}

// LedgerEvent is one ledger record's kind.
type LedgerEvent string

const (
	LedgerStart   LedgerEvent = "start"   // a call is about to be made
	LedgerAbandon LedgerEvent = "abandon" // no call of this job can have reached Cognito
)

// LedgerRecord is one line of the ledger.
type LedgerRecord struct {
	Event     LedgerEvent `json:"event"`
	Username  string      `json:"username"`
	SourceRef string      `json:"source_ref"`
	At        string      `json:"at"`
	// Message is what the call was to send (confirmation or invitation): the `unknown`
	// row of an intent without an outcome says it. Absent in older ledgers.
	Message job.Message `json:"message,omitempty"`
}

type ledgerReq struct {
	line   []byte
	rotate string     // non-empty: move the file there and continue in a fresh one
	done   chan error // nil: don't wait (abandon)
}

// LedgerPath is where the ledger of a report lives.
func LedgerPath(reportPath string) string { return reportPath + ".ledger" }

// OpenLedger creates the ledger with mode 0600, or appends to it (resume). A new
// campaign refuses an existing ledger: it belongs to a campaign that was started.
func OpenLedger(path string, appendMode bool, clk clock.Clock) (*IntentLog, error) {
	clk = clock.Must(clk, "records.OpenLedger")
	f, _, err := openLog(path, appendMode)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("ledger %s exists: a campaign with this report was started; use --resume", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	l := &IntentLog{f: f, path: path, clock: clk, reqs: make(chan ledgerReq, 1024), done: make(chan struct{})}
	go l.loop()
	return l, nil
}

func (l *IntentLog) record(ev LedgerEvent, j job.Job) []byte {
	b, _ := json.Marshal(LedgerRecord{Event: ev, Username: j.Username, SourceRef: j.SourceRef,
		At: l.clock.Now().UTC().Format(time.RFC3339Nano), Message: j.Message.Or()})
	return append(b, '\n')
}

// Intend makes a start record durable before the job's call.
func (l *IntentLog) Intend(ctx context.Context, j job.Job) error {
	t0 := l.clock.Now()
	defer func() { l.waitedNs.Add(int64(l.clock.Since(t0))) }()
	req := ledgerReq{line: l.record(LedgerStart, j), done: make(chan error, 1)}
	// Tracked before it is queued: a rotation between the two then carries it over (and
	// loop, seeing it carried, doesn't write it again).
	l.track(j.SourceRef, req.line)
	if err := l.send(ctx, req); err != nil {
		l.Settle(j.SourceRef)
		return err
	}
	// Once queued, wait for the fsync even if ctx ends: it takes microseconds, and the
	// caller must know whether the intent is on disk.
	return <-req.done
}

// Abandon records that the job was given back without any call that could have
// reached Cognito, so a resume may call it. It does not wait for the disk.
func (l *IntentLog) Abandon(j job.Job) {
	l.Settle(j.SourceRef)
	_ = l.send(context.Background(), ledgerReq{line: l.record(LedgerAbandon, j)})
}

// Peek finds nothing to wait for: a file is one campaign's alone.
func (*IntentLog) Peek(context.Context, job.Job) (job.ClaimVerdict, error) {
	return job.ClaimVerdict{Kind: job.Won}, nil
}

// Claim is the engine's claim step on the file: the intent, made durable once the call's
// rate token is in hand, just before the call. A file is one campaign's alone, so every
// claim wins; a resume reports an intent without a row `unknown`.
func (l *IntentLog) Claim(ctx context.Context, j job.Job) (job.ClaimVerdict, error) {
	return job.ClaimVerdict{Kind: job.Won}, l.Intend(ctx, j)
}

// Renew does nothing: an intent has no lease.
func (*IntentLog) Renew(context.Context, job.Job) error { return nil }

// Finish does nothing: the report row, durable already, is the outcome.
func (*IntentLog) Finish(context.Context, job.Job, job.Result) error { return nil }

// RowIsOutcome says that Finish does nothing: the engine need not call it.
func (*IntentLog) RowIsOutcome() bool { return true }

// Release abandons the intent of a job given back before any call could have reached
// Cognito; an intent whose call may have landed stays (unknown on resume).
func (l *IntentLog) Release(_ context.Context, j job.Job, mayHaveCalled bool) {
	if !mayHaveCalled {
		l.Abandon(j)
	}
}

// TrackPending makes the ledger remember, in memory, the intents that have no durable
// row yet (Settle forgets them), so that Rotate can carry them into the fresh file. Call
// it before the first Intend; without it Rotate carries nothing over.
func (l *IntentLog) TrackPending() {
	l.pmu.Lock()
	defer l.pmu.Unlock()
	if l.pending == nil {
		l.pending = map[string]pendingIntent{}
	}
}

func (l *IntentLog) track(ref string, line []byte) {
	l.pmu.Lock()
	defer l.pmu.Unlock()
	if l.pending != nil {
		l.seq++
		l.pending[ref] = pendingIntent{seq: l.seq, line: line}
	}
}

// Settle forgets the intents of these source refs: their rows are durable.
func (l *IntentLog) Settle(refs ...string) {
	l.pmu.Lock()
	defer l.pmu.Unlock()
	if l.pending != nil {
		for _, ref := range refs {
			delete(l.pending, ref)
		}
	}
}

// pendingLines are the start records of the intents without a row, oldest first.
func (l *IntentLog) pendingLines() [][]byte {
	l.pmu.Lock()
	ps := make([]pendingIntent, 0, len(l.pending))
	for _, p := range l.pending {
		ps = append(ps, p)
	}
	l.pmu.Unlock()
	slices.SortFunc(ps, func(a, b pendingIntent) int { return cmp.Compare(a.seq, b.seq) })
	lines := make([][]byte, len(ps))
	for i, p := range ps {
		lines[i] = p.line
	}
	return lines
}

// Rotate moves the ledger's file to rotatedPath (never replacing a file there: it fails
// with an error wrapping os.ErrExist) and continues in a fresh file, mode 0600, at the
// ledger's path. It runs inside the ledger's own goroutine between two fsync groups:
// every record queued before Rotate is durable in the old file, every record after it
// goes to the new one, and the intents still without a row (TrackPending) are copied
// into the new file first. If it fails the ledger carries on in its current file.
func (l *IntentLog) Rotate(rotatedPath string) error {
	req := ledgerReq{rotate: rotatedPath, done: make(chan error, 1)}
	if err := l.send(context.Background(), req); err != nil {
		return err
	}
	return <-req.done
}

// rotate runs in loop.
func (l *IntentLog) rotate(rotatedPath string) error {
	fresh, tmp, err := createTemp(l.path)
	if err != nil {
		return fmt.Errorf("ledger rotation: %w", err)
	}
	carry := l.pendingLines()
	if len(carry) > 0 {
		if _, err := fresh.Write(bytes.Join(carry, nil)); err != nil {
			return errors.Join(fmt.Errorf("ledger rotation: %w", err), discardTemp(fresh, tmp))
		}
	}
	if err := fresh.Sync(); err != nil {
		return errors.Join(fmt.Errorf("ledger rotation: %w", err), discardTemp(fresh, tmp))
	}
	if err := swapIn(l.path, rotatedPath, tmp); err != nil {
		return errors.Join(fmt.Errorf("ledger rotation: %w", err), discardTemp(fresh, tmp))
	}
	// The old file is complete and fsync'd (loop commits before it rotates).
	_ = l.f.Close()
	l.f = fresh
	l.carried = make(map[string]struct{}, len(carry))
	for _, line := range carry {
		l.carried[string(line)] = struct{}{}
	}
	return nil
}

func (l *IntentLog) firstErr() error {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return l.err
}

func (l *IntentLog) send(ctx context.Context, req ledgerReq) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return errors.New("ledger closed")
	}
	if err := l.firstErr(); err != nil {
		return err
	}
	select {
	case l.reqs <- req:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// loop commits the queued records in groups (one write and one fsync a group); a
// rotation ends a group: what precedes it is durable in the old file.
func (l *IntentLog) loop() {
	defer close(l.done)
	buf := make([]byte, 0, 64<<10)
	GroupCommit(l.reqs, ledgerGroupMax, func(r ledgerReq) bool { return r.rotate != "" }, func(group []ledgerReq) {
		recs := group
		var rot *ledgerReq
		if last := &group[len(group)-1]; last.rotate != "" {
			rot, recs = last, group[:len(group)-1]
		}
		if len(recs) > 0 {
			buf = buf[:0]
			written := 0
			for _, r := range recs {
				if _, dup := l.carried[string(r.line)]; dup {
					delete(l.carried, string(r.line)) // queued before, written by the rotation
					continue
				}
				buf = append(buf, r.line...)
				written++
			}
			t0 := l.clock.Now()
			_, err := l.f.Write(buf)
			if err == nil {
				err = l.f.Sync()
			}
			l.syncNs.Add(int64(l.clock.Since(t0)))
			l.syncs.Add(1)
			l.records.Add(int64(written))
			if err != nil {
				err = fmt.Errorf("ledger: %w", err)
				l.errMu.Lock()
				if l.err == nil {
					l.err = err
				}
				l.errMu.Unlock()
			}
			for _, r := range recs {
				if r.done != nil {
					r.done <- err
				}
			}
		}
		if rot != nil {
			err := l.firstErr()
			if err == nil {
				err = l.rotate(rot.rotate)
			}
			rot.done <- err
		}
	})
}

// ledgerGroupMax caps the records of one group commit.
const ledgerGroupMax = 256

// Close flushes pending records and closes the file.
func (l *IntentLog) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.reqs)
	l.mu.Unlock()
	<-l.done
	return errors.Join(l.firstErr(), l.f.Sync(), l.f.Close())
}
