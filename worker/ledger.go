package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Ledger is the intent journal beside the report (<report>.ledger, JSON Lines, 0600).
// Before a user's first call, a "start" record is made durable; the report row made
// durable afterwards is the outcome. A user with a start but no row — the process was
// killed between the two — may or may not have been sent a code, so --resume reports
// them `unknown` instead of calling again. Records from concurrent workers are written
// and fsync'd together (group commit): one fsync covers every intent waiting for it.
type Ledger struct {
	f     *os.File
	clock Clock
	reqs  chan ledgerReq
	done  chan struct{}

	// mu guards closed: senders hold it shared while queueing, Close exclusively.
	mu     sync.RWMutex
	closed bool

	errMu sync.Mutex
	err   error // first write/sync error; later Intends fail with it
}

var _ Journal = (*Ledger)(nil)

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
}

type ledgerReq struct {
	line []byte
	done chan error // nil: don't wait (abandon)
}

// LedgerPath is where the ledger of a report lives.
func LedgerPath(reportPath string) string { return reportPath + ".ledger" }

// OpenLedger creates the ledger with mode 0600, or appends to it (resume). A new
// campaign refuses an existing ledger: it belongs to a campaign that was started.
func OpenLedger(path string, appendMode bool, clock Clock) (*Ledger, error) {
	if clock == nil {
		clock = realClock{}
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if !appendMode {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("ledger %s exists: a campaign with this report was started; use --resume", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		if err := endTornLine(path, f, st.Size()); err != nil {
			f.Close()
			return nil, err
		}
	}
	l := &Ledger{f: f, clock: clock, reqs: make(chan ledgerReq, 1024), done: make(chan struct{})}
	go l.loop()
	return l, nil
}

func (l *Ledger) record(ev LedgerEvent, job Job) []byte {
	b, _ := json.Marshal(LedgerRecord{Event: ev, Username: job.Username, SourceRef: job.SourceRef,
		At: l.clock.Now().UTC().Format(time.RFC3339Nano)})
	return append(b, '\n')
}

// Intend makes a start record durable before the job's call.
func (l *Ledger) Intend(ctx context.Context, job Job) error {
	req := ledgerReq{line: l.record(LedgerStart, job), done: make(chan error, 1)}
	if err := l.send(ctx, req); err != nil {
		return err
	}
	// Once queued, wait for the fsync even if ctx ends: it takes microseconds, and the
	// caller must know whether the intent is on disk.
	return <-req.done
}

// Abandon records that the job was given back without any call that could have
// reached Cognito, so a resume may call it. It does not wait for the disk.
func (l *Ledger) Abandon(job Job) {
	_ = l.send(context.Background(), ledgerReq{line: l.record(LedgerAbandon, job)})
}

func (l *Ledger) firstErr() error {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return l.err
}

func (l *Ledger) send(ctx context.Context, req ledgerReq) error {
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

func (l *Ledger) loop() {
	defer close(l.done)
	batch := make([]ledgerReq, 0, 256)
	buf := make([]byte, 0, 64<<10)
	for req := range l.reqs {
		batch = append(batch[:0], req)
	drain:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-l.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		buf = buf[:0]
		for _, r := range batch {
			buf = append(buf, r.line...)
		}
		_, err := l.f.Write(buf)
		if err == nil {
			err = l.f.Sync()
		}
		if err != nil {
			err = fmt.Errorf("ledger: %w", err)
			l.errMu.Lock()
			if l.err == nil {
				l.err = err
			}
			l.errMu.Unlock()
		}
		for _, r := range batch {
			if r.done != nil {
				r.done <- err
			}
		}
	}
}

// Close flushes pending records and closes the file.
func (l *Ledger) Close() error {
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
