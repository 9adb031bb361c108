package worker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker"
)

// eventLog is a shared, ordered record of what fakes saw.
type eventLog struct {
	mu sync.Mutex
	ev []string
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = append(l.ev, fmt.Sprintf(format, args...))
}

func (l *eventLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ev)
}

// count returns how many events start with prefix.
func (l *eventLog) count(prefix string) int {
	n := 0
	for _, e := range l.all() {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// fakeSource yields jobs from a slice, then err (io.EOF when nil). When block is set it
// never ends: after the jobs it waits for ctx, like SQS.
type fakeSource struct {
	worker.Source

	mu    sync.Mutex
	jobs  []worker.Job
	next  int
	err   error
	block bool
}

var _ worker.Source = (*fakeSource)(nil)

func (s *fakeSource) Next(ctx context.Context) (worker.Job, error) {
	if err := ctx.Err(); err != nil {
		return worker.Job{}, err
	}
	s.mu.Lock()
	if s.next < len(s.jobs) {
		j := s.jobs[s.next]
		s.next++
		s.mu.Unlock()
		return j, nil
	}
	s.mu.Unlock()
	if s.block {
		<-ctx.Done()
		return worker.Job{}, ctx.Err()
	}
	if s.err != nil {
		return worker.Job{}, s.err
	}
	return worker.Job{}, io.EOF
}

func (s *fakeSource) taken() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// fakeProcessor runs fn (default: sent in one attempt) and records what it processed.
type fakeProcessor struct {
	worker.Processor

	log *eventLog
	fn  func(stop, kill context.Context, job worker.Job) worker.Result
}

var _ worker.Processor = (*fakeProcessor)(nil)

func sent(job worker.Job) worker.Result {
	return worker.Result{Username: job.Username, SourceRef: job.SourceRef, Status: worker.StatusSent,
		Attempts: 1, StartedAt: clockStart, FinishedAt: clockStart, Class: worker.ClassNone}
}

func (p *fakeProcessor) Resend(stop, kill context.Context, job worker.Job) worker.Result {
	p.log.add("process:%s", job.SourceRef)
	if p.fn != nil {
		return p.fn(stop, kill, job)
	}
	return sent(job)
}

// fakeReport records rows and the Write/Sync order in the shared log.
type fakeReport struct {
	worker.ReportWriter

	log      *eventLog
	mu       sync.Mutex
	rows     []worker.Result
	syncErr  error
	writeErr error
	closed   bool
}

var _ worker.ReportWriter = (*fakeReport)(nil)

func (r *fakeReport) Write(res worker.Result) error {
	if r.writeErr != nil {
		r.log.add("writefail:%s", res.SourceRef)
		return r.writeErr
	}
	r.mu.Lock()
	r.rows = append(r.rows, res)
	r.mu.Unlock()
	r.log.add("write:%s", res.SourceRef)
	return nil
}

func (r *fakeReport) Sync() error {
	if r.syncErr != nil {
		r.log.add("syncfail")
		return r.syncErr
	}
	r.log.add("sync")
	return nil
}

func (r *fakeReport) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

func (r *fakeReport) byRef() map[string]worker.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]worker.Result{}
	for _, row := range r.rows {
		m[row.SourceRef] = row
	}
	return m
}

func (r *fakeReport) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.rows)
}

// fakeJournal records intents and abandons.
type fakeJournal struct {
	worker.Journal

	log       *eventLog
	intendErr error
}

var _ worker.Journal = (*fakeJournal)(nil)

func (j *fakeJournal) Intend(_ context.Context, job worker.Job) error {
	j.log.add("intend:%s", job.SourceRef)
	return j.intendErr
}

func (j *fakeJournal) Abandon(job worker.Job) { j.log.add("abandon:%s", job.SourceRef) }

// engineFixture wires an Engine to fakes; SourceRef i is the job's index.
type engineFixture struct {
	log    *eventLog
	src    *fakeSource
	proc   *fakeProcessor
	report *fakeReport
	engine *worker.Engine
	clock  *fakeClock
}

func newEngineFixture(usernames ...string) *engineFixture {
	f := &engineFixture{log: &eventLog{}, clock: newFakeClock()}
	f.src = &fakeSource{}
	for i, u := range usernames {
		f.src.jobs = append(f.src.jobs, f.job(u, strconv.Itoa(i), true))
	}
	f.proc = &fakeProcessor{log: f.log}
	f.report = &fakeReport{log: f.log}
	f.engine = &worker.Engine{
		Source: f.src, Processor: f.proc, Report: f.report, Workers: 4, Clock: f.clock,
		OnResult: func(r worker.Result) { f.log.add("result:%s", r.SourceRef) },
	}
	return f
}

// job builds a job whose Ack and (if redeliverable) Release are logged.
func (f *engineFixture) job(username, ref string, redeliverable bool) worker.Job {
	j := worker.Job{Username: username, SourceRef: ref}
	j.Ack = func(ctx context.Context, r worker.Result) error {
		if ctx.Err() != nil {
			f.log.add("deadctx:%s", ref)
		}
		f.log.add("ack:%s:%s", ref, r.Status)
		return nil
	}
	if redeliverable {
		j.Release = func(ctx context.Context) error {
			if ctx.Err() != nil {
				f.log.add("deadctx:%s", ref)
			}
			f.log.add("release:%s", ref)
			return nil
		}
	}
	return j
}

func (f *engineFixture) run(t *testing.T, stop context.Context) (*worker.Summary, error) {
	t.Helper()
	sum, err := f.engine.Run(stop, context.Background())
	require.NotNil(t, sum)
	f.checkInvariants(t)
	return sum, err
}

// checkInvariants: every ack follows a write and a sync of that row; no job is both
// acked and released, or acked/released twice; every taken job is settled one way.
func (f *engineFixture) checkInvariants(t *testing.T) {
	t.Helper()
	ev := f.log.all()
	acked, released, written := map[string]int{}, map[string]int{}, map[string]int{}
	lastSync := -1
	for i, e := range ev {
		parts := strings.Split(e, ":")
		switch parts[0] {
		case "write":
			written[parts[1]] = i
		case "sync":
			lastSync = i
		case "ack", "result":
			w, ok := written[parts[1]]
			require.True(t, ok, "%s before its write: %v", e, ev)
			require.Greater(t, lastSync, w, "%s not covered by a sync: %v", e, ev)
			if parts[0] == "ack" {
				acked[parts[1]]++
			}
		case "release":
			released[parts[1]]++
		case "deadctx":
			require.Failf(t, "settled with a dead context", "job %s: %v", parts[1], ev)
		}
	}
	for ref, n := range acked {
		require.Equal(t, 1, n, "job %s acked %d times", ref, n)
		require.Zero(t, released[ref], "job %s acked and released", ref)
	}
	for ref, n := range released {
		require.Equal(t, 1, n, "job %s released %d times", ref, n)
	}
	for i := range f.src.taken() {
		ref := strconv.Itoa(i)
		if f.src.jobs[i].Ack != nil && f.src.jobs[i].Release != nil {
			require.Equal(t, 1, acked[ref]+released[ref], "taken job %s settled %d times: %v", ref, acked[ref]+released[ref], ev)
		}
	}
}

func TestEngineEveryJobOneRow(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("alice", "bob", "ALICE", "", "carol", "Bob", "dave")
	f.src.jobs[3].Invalid = "username is empty"
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)

	rows := f.report.byRef()
	require.Len(t, rows, 7)
	require.Equal(t, 7, f.report.count(), "one row per job")
	for _, ref := range []string{"0", "1", "4", "6"} {
		require.Equal(t, worker.StatusSent, rows[ref].Status, ref)
	}
	require.Equal(t, worker.Result{Username: "ALICE", Status: worker.StatusDuplicate,
		ErrorMessage: "username already has a row in this campaign", SourceRef: "2",
		StartedAt: clockStart, FinishedAt: clockStart, Class: worker.ClassPerUser}, rows["2"])
	require.Equal(t, worker.StatusDuplicate, rows["5"].Status)
	require.Equal(t, worker.Result{Username: "", Status: worker.StatusInvalidInput, ErrorCode: "InvalidInput",
		ErrorMessage: "username is empty", SourceRef: "3",
		StartedAt: clockStart, FinishedAt: clockStart, Class: worker.ClassPerUser}, rows["3"])

	// Duplicates and invalid rows never reach the processor.
	require.ElementsMatch(t, []string{"process:0", "process:1", "process:4", "process:6"}, filter(f.log.all(), "process:"))
	require.ElementsMatch(t, []string{"ack:0:sent", "ack:1:sent", "ack:2:duplicate", "ack:3:invalid_input",
		"ack:4:sent", "ack:5:duplicate", "ack:6:sent"}, filter(f.log.all(), "ack:"))
	require.Zero(t, f.log.count("release:"))
	require.Equal(t, 7, f.log.count("result:"))

	require.Equal(t, 7, sum.Rows)
	require.Equal(t, map[worker.Status]int{worker.StatusSent: 4, worker.StatusDuplicate: 2, worker.StatusInvalidInput: 1}, sum.Counts)
	require.Equal(t, 4, sum.Attempts)
	require.Equal(t, 0, sum.Released)
	require.Equal(t, clockStart, sum.Started)
	require.Equal(t, clockStart, sum.Finished)
}

func filter(ev []string, prefix string) []string {
	var out []string
	for _, e := range ev {
		if strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func TestEngineDuplicateCaseInsensitive(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("Ünïcode", "üNÏCODE", "user@Example.com", "USER@example.COM")
	f.engine.Workers = 1
	_, err := f.run(t, context.Background())
	require.NoError(t, err)
	rows := f.report.byRef()
	require.Equal(t, worker.StatusSent, rows["0"].Status)
	require.Equal(t, worker.StatusDuplicate, rows["1"].Status)
	require.Equal(t, worker.StatusSent, rows["2"].Status)
	require.Equal(t, worker.StatusDuplicate, rows["3"].Status)
}

func TestEngineAckAfterSync(t *testing.T) {
	t.Parallel()

	for _, batch := range []int{1, 7, 0} {
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) {
			t.Parallel()
			names := make([]string, 300)
			for i := range names {
				names[i] = fmt.Sprintf("user%d", i%250) // 50 duplicates
			}
			f := newEngineFixture(names...)
			f.engine.Workers = 8
			f.engine.BatchSize = batch
			sum, err := f.run(t, context.Background())
			require.NoError(t, err)
			require.Equal(t, 300, sum.Rows)
			require.Equal(t, 300, f.log.count("ack:"))
			require.Equal(t, 50, sum.Counts[worker.StatusDuplicate])
			require.Equal(t, 250, f.log.count("process:"))
			if batch == 1 {
				require.Equal(t, 300, f.log.count("sync"), "BatchSize 1 syncs every row")
			}
		})
	}
}

func TestEngineSeenSetShared(t *testing.T) {
	t.Parallel()

	// A caller-supplied SeenSet carries usernames over (e.g. from a resumed report).
	f := newEngineFixture("alice", "bob")
	f.engine.Seen = worker.NewSeenSet()
	require.True(t, f.engine.Seen.Add("ALICE"))
	_, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, worker.StatusDuplicate, f.report.byRef()["0"].Status)
	require.Equal(t, worker.StatusSent, f.report.byRef()["1"].Status)
	require.Equal(t, 2, f.engine.Seen.Len())
}

func TestEngineSystemic(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("u0", "u1", "u2", "u3", "u4", "u5")
	f.engine.Workers = 1
	f.proc.fn = func(_, _ context.Context, job worker.Job) worker.Result {
		if job.Username == "u2" {
			return worker.Result{Username: job.Username, SourceRef: job.SourceRef, Status: worker.StatusFailed,
				Attempts: 1, ErrorCode: "NotAuthorizedException", ErrorMessage: "bad secret",
				Class: worker.ClassSystemic, Fix: "fix it"}
		}
		return sent(job)
	}
	sum, err := f.run(t, context.Background())

	var sys *worker.SystemicError
	require.ErrorAs(t, err, &sys)
	require.Equal(t, worker.SystemicError{Code: "NotAuthorizedException", Message: "bad secret", Fix: "fix it"}, *sys)
	require.EqualError(t, err, "Cognito answered NotAuthorizedException (bad secret); fix: fix it")

	rows := f.report.byRef()
	require.Len(t, rows, 2)
	require.Contains(t, rows, "0")
	require.Contains(t, rows, "1")
	require.Equal(t, []string{"process:0", "process:1", "process:2"}, filter(f.log.all(), "process:"))

	// The systemic job and anything taken after it is given back, without a row.
	released := filter(f.log.all(), "release:")
	require.Contains(t, released, "release:2")
	require.LessOrEqual(t, f.src.taken(), 4, "dispatch stopped")
	require.Len(t, released, f.src.taken()-2)
	require.Equal(t, len(released), sum.Released)
	require.Equal(t, 2, sum.Rows)
}

func TestEngineSystemicManyWorkers(t *testing.T) {
	t.Parallel()

	names := make([]string, 200)
	for i := range names {
		names[i] = fmt.Sprintf("u%d", i)
	}
	f := newEngineFixture(names...)
	f.engine.Workers = 8
	f.proc.fn = func(_, _ context.Context, job worker.Job) worker.Result {
		if job.Username == "u20" {
			return worker.Result{Username: job.Username, SourceRef: job.SourceRef, Status: worker.StatusFailed,
				ErrorCode: "ForbiddenException", Class: worker.ClassSystemic, Fix: "waf"}
		}
		return sent(job)
	}
	sum, err := f.run(t, context.Background())
	var sys *worker.SystemicError
	require.ErrorAs(t, err, &sys)
	require.Equal(t, "ForbiddenException", sys.Code)
	require.NotContains(t, f.report.byRef(), "20")
	require.Contains(t, filter(f.log.all(), "release:"), "release:20")
	require.Less(t, f.src.taken(), 200)
	require.Equal(t, sum.Rows+sum.Released, f.src.taken())
}

func TestEngineInterrupted(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("u0", "u1", "u2", "u3", "u4", "u5")
	f.engine.Workers = 1
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.proc.fn = func(_, _ context.Context, job worker.Job) worker.Result {
		if job.Username == "u1" {
			cancel() // soft stop while u1's call is in flight: it finishes
		}
		return sent(job)
	}
	sum, err := f.run(t, stop)
	require.ErrorIs(t, err, worker.ErrInterrupted)

	rows := f.report.byRef()
	require.Len(t, rows, 2)
	require.Equal(t, worker.StatusSent, rows["1"].Status)
	require.Equal(t, []string{"ack:0:sent", "ack:1:sent"}, filter(f.log.all(), "ack:"))
	require.Equal(t, []string{"process:0", "process:1"}, filter(f.log.all(), "process:"))
	require.LessOrEqual(t, f.src.taken(), 3)
	require.Len(t, filter(f.log.all(), "release:"), f.src.taken()-2)
	require.Equal(t, f.src.taken()-2, sum.Released)
}

func TestEngineInterruptedEndlessSource(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("u0", "u1", "u2")
	f.src.block = true
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.engine.OnResult = func(r worker.Result) {
		f.log.add("result:%s", r.SourceRef)
		if r.SourceRef == "2" {
			cancel()
		}
	}
	f.engine.BatchSize = 1
	// Process in order so that row 2 is the last.
	f.engine.Workers = 1
	sum, err := f.run(t, stop)
	require.ErrorIs(t, err, worker.ErrInterrupted)
	require.Equal(t, 3, sum.Rows)
	require.Equal(t, 0, sum.Released)
}

func TestEngineAmbiguousReleaseKeepsIntent(t *testing.T) {
	t.Parallel()

	// A job stopped after a timeout/5xx attempt may have been sent: it is given back but
	// its intent stays (no Abandon).
	f := newEngineFixture("u0", "u1")
	f.engine.Workers = 1
	f.engine.Journal = &fakeJournal{log: f.log}
	f.proc.fn = func(_, _ context.Context, job worker.Job) worker.Result {
		if job.Username == "u0" {
			return worker.Result{Username: job.Username, SourceRef: job.SourceRef, Status: worker.StatusFailed,
				Attempts: 1, ErrorCode: "Timeout", Class: worker.ClassCanceled, Ambiguous: true}
		}
		return worker.Result{Username: job.Username, SourceRef: job.SourceRef, Status: worker.StatusFailed,
			Attempts: 1, ErrorCode: "TooManyRequestsException", Class: worker.ClassCanceled}
	}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, 0, sum.Rows)
	require.Equal(t, []string{"release:0", "release:1"}, filter(f.log.all(), "release:"))
	require.Equal(t, []string{"abandon:1"}, filter(f.log.all(), "abandon:"))
}

func TestEngineCanceledResultReleased(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("u0", "u1", "u2")
	f.engine.Workers = 1
	j := &fakeJournal{log: f.log}
	f.engine.Journal = j
	f.proc.fn = func(_, _ context.Context, job worker.Job) worker.Result {
		if job.Username == "u1" {
			return worker.Result{Username: job.Username, SourceRef: job.SourceRef, Status: worker.StatusFailed,
				ErrorCode: "Canceled", Class: worker.ClassCanceled}
		}
		return sent(job)
	}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.NotContains(t, f.report.byRef(), "1")
	require.Equal(t, []string{"release:1"}, filter(f.log.all(), "release:"))
	require.Equal(t, []string{"abandon:1"}, filter(f.log.all(), "abandon:"))
	require.Equal(t, 2, sum.Rows)
	require.Equal(t, 1, sum.Released)
}

func TestEnginePanic(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("alice", "bob", "carol")
	f.proc.fn = func(_, _ context.Context, job worker.Job) worker.Result {
		if job.Username == "bob" {
			panic("boom")
		}
		return sent(job)
	}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)

	rows := f.report.byRef()
	require.Len(t, rows, 3)
	bob := rows["1"]
	require.Equal(t, "bob", bob.Username)
	require.Equal(t, worker.StatusFailed, bob.Status)
	require.Equal(t, "Panic", bob.ErrorCode)
	require.Equal(t, "boom", bob.ErrorMessage)
	require.Equal(t, 1, bob.Attempts)
	require.Equal(t, worker.ClassPerUser, bob.Class)
	require.Equal(t, worker.StatusSent, rows["0"].Status)
	require.Equal(t, worker.StatusSent, rows["2"].Status)
	require.Equal(t, map[worker.Status]int{worker.StatusSent: 2, worker.StatusFailed: 1}, sum.Counts)
	require.Contains(t, filter(f.log.all(), "ack:"), "ack:1:failed")
}

func TestEnginePanicRowUsesClock(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("bob")
	f.proc.fn = func(_, _ context.Context, job worker.Job) worker.Result { panic("boom") }
	_, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, clockStart, f.report.byRef()["0"].StartedAt)
	require.Equal(t, clockStart, f.report.byRef()["0"].FinishedAt)
}

func TestEngineSyncError(t *testing.T) {
	t.Parallel()

	errDisk := errors.New("no space left on device")
	f := newEngineFixture("u0", "u1", "u2", "u3", "u4")
	f.engine.Workers = 1
	f.report.syncErr = errDisk
	sum, err := f.run(t, context.Background())
	require.ErrorIs(t, err, errDisk)
	require.EqualError(t, err, "report: no space left on device")

	require.Zero(t, f.log.count("ack:"), "no ack without a durable row")
	require.Zero(t, f.log.count("result:"))
	require.Equal(t, 0, sum.Rows)
	// Every job taken was given back instead.
	require.Equal(t, f.src.taken(), f.log.count("release:"))
	require.Equal(t, f.src.taken(), sum.Released)
}

func TestEngineSyncErrorDoesNotAbandonSentJobs(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("u0")
	f.report.syncErr = errors.New("EIO")
	f.engine.Journal = &fakeJournal{log: f.log}
	_, err := f.engine.Run(context.Background(), context.Background())
	require.Error(t, err)
	require.Equal(t, []string{"intend:0"}, filter(f.log.all(), "intend:"))
	require.Equal(t, []string{"process:0"}, filter(f.log.all(), "process:"))
	require.Empty(t, filter(f.log.all(), "abandon:"), "u0 was sent: its intent must stay (status unknown on resume)")
}

func TestEngineWriteError(t *testing.T) {
	t.Parallel()

	errW := errors.New("write failed")
	f := newEngineFixture("u0", "u1", "u2")
	f.engine.Workers = 1
	f.report.writeErr = errW
	sum, err := f.run(t, context.Background())
	require.ErrorIs(t, err, errW)
	require.Zero(t, f.log.count("ack:"))
	require.Zero(t, f.log.count("sync"), "nothing to sync after a failed write")
	require.Equal(t, 0, sum.Rows)
	require.Equal(t, f.src.taken(), sum.Released)
}

func TestEngineSourceError(t *testing.T) {
	t.Parallel()

	errBoom := errors.New("boom")
	f := newEngineFixture("u0", "u1")
	f.engine.Workers = 1
	f.src.err = errBoom
	sum, err := f.run(t, context.Background())
	require.ErrorIs(t, err, errBoom)
	require.EqualError(t, err, "source: boom")
	require.Equal(t, 2, f.src.taken())
	require.Equal(t, 2, sum.Rows+sum.Released)
}

func TestEngineRedeliverable(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		first       worker.Result
		release     bool
		wantSecond  worker.Status
		wantProcess int
	}{
		{"retryable failure with Release", worker.Result{Status: worker.StatusFailed, Class: worker.ClassRetryable, ErrorCode: "TooManyRequestsException", Attempts: 8}, true, worker.StatusSent, 3},
		{"limit exceeded with Release", worker.Result{Status: worker.StatusLimitExceeded, Class: worker.ClassPerUser, ErrorCode: "LimitExceededException", Attempts: 1}, true, worker.StatusSent, 3},
		{"retryable failure without Release", worker.Result{Status: worker.StatusFailed, Class: worker.ClassRetryable, Attempts: 8}, false, worker.StatusDuplicate, 2},
		{"per-user failure with Release", worker.Result{Status: worker.StatusUserNotFound, Class: worker.ClassPerUser, Attempts: 1}, true, worker.StatusDuplicate, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEngineFixture()
			f.src.jobs = []worker.Job{
				f.job("alice", "0", tt.release),
				f.job("bob", "1", tt.release),
				f.job("Alice", "2", tt.release), // the source delivers alice again
			}
			f.engine.Workers = 1 // alice's first result is in before the redelivery is read
			var mu sync.Mutex
			calls := 0
			f.proc.fn = func(_, _ context.Context, job worker.Job) worker.Result {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if job.SourceRef == "0" {
					r := tt.first
					r.Username, r.SourceRef = job.Username, job.SourceRef
					return r
				}
				return sent(job)
			}
			_, err := f.run(t, context.Background())
			require.NoError(t, err)
			rows := f.report.byRef()
			require.Len(t, rows, 3)
			require.Equal(t, tt.first.Status, rows["0"].Status)
			require.Equal(t, tt.wantSecond, rows["2"].Status)
			require.Equal(t, tt.wantProcess, calls)
			require.Zero(t, f.log.count("release:"))
		})
	}
}

func TestEngineJournal(t *testing.T) {
	t.Parallel()

	t.Run("intent before the call", func(t *testing.T) {
		t.Parallel()
		f := newEngineFixture("u0", "u1")
		f.engine.Journal = &fakeJournal{log: f.log}
		_, err := f.run(t, context.Background())
		require.NoError(t, err)
		ev := f.log.all()
		for _, ref := range []string{"0", "1"} {
			i, p := slices.Index(ev, "intend:"+ref), slices.Index(ev, "process:"+ref)
			require.GreaterOrEqual(t, i, 0)
			require.Greater(t, p, i)
		}
		require.Zero(t, f.log.count("abandon:"))
	})
	t.Run("failed intent is not called, is released and stops the run", func(t *testing.T) {
		t.Parallel()
		f := newEngineFixture("u0")
		f.engine.Journal = &fakeJournal{log: f.log, intendErr: errors.New("journal full")}
		sum, err := f.run(t, context.Background())
		require.ErrorContains(t, err, "ledger: journal full")
		require.Zero(t, f.log.count("process:"))
		require.Equal(t, []string{"release:0"}, filter(f.log.all(), "release:"))
		require.Equal(t, []string{"abandon:0"}, filter(f.log.all(), "abandon:"))
		require.Equal(t, 0, sum.Rows)
		require.Equal(t, 1, sum.Released)
	})
}

func TestEngineAckErrorIsNotFatal(t *testing.T) {
	t.Parallel()

	f := newEngineFixture()
	j := f.job("alice", "0", true)
	j.Ack = func(context.Context, worker.Result) error {
		f.log.add("ack:0:x")
		return errors.New("sqs down")
	}
	f.src.jobs = []worker.Job{j, f.job("bob", "1", true)}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, sum.Rows)
	require.Equal(t, 2, f.log.count("ack:"))
}

func TestSeenSet(t *testing.T) {
	t.Parallel()

	s := worker.NewSeenSet()
	require.Equal(t, 0, s.Len())
	require.True(t, s.Add("Alice"))
	require.False(t, s.Add("alice"))
	require.False(t, s.Add("ALICE"))
	require.True(t, s.Add("bob"))
	require.Equal(t, 2, s.Len())
	s.Remove("aLiCe")
	require.Equal(t, 1, s.Len())
	require.True(t, s.Add("alice"))
	s.Remove("nobody")
	require.Equal(t, 2, s.Len())
}
