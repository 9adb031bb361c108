package engine_test

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

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
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
	job.Source

	mu    sync.Mutex
	jobs  []job.Job
	next  int
	err   error
	block bool
	// before, when set, is called before job i is handed out (to order a test).
	before func(i int)
}

var _ job.Source = (*fakeSource)(nil)

func (s *fakeSource) Next(ctx context.Context) (job.Job, error) {
	if err := ctx.Err(); err != nil {
		return job.Job{}, err
	}
	s.mu.Lock()
	if s.next < len(s.jobs) {
		i := s.next
		s.mu.Unlock()
		if s.before != nil {
			s.before(i)
		}
		s.mu.Lock()
		j := s.jobs[i]
		s.next++
		s.mu.Unlock()
		return j, nil
	}
	s.mu.Unlock()
	if s.block {
		<-ctx.Done()
		return job.Job{}, ctx.Err()
	}
	if s.err != nil {
		return job.Job{}, s.err
	}
	return job.Job{}, io.EOF
}

func (s *fakeSource) taken() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// fakeProcessor runs fn (default: sent in one attempt) and records what it processed.
type fakeProcessor struct {
	engine.Processor

	log *eventLog
	fn  func(stop, kill context.Context, j job.Job) job.Result
}

var _ engine.Processor = (*fakeProcessor)(nil)

func sent(j job.Job) job.Result {
	return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusSent,
		Attempts: 1, StartedAt: clockStart, FinishedAt: clockStart, Class: job.ClassNone}
}

// gated is what a processor returns when its gate refuses the first attempt.
func gated(j job.Job) job.Result {
	return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusFailed, Class: job.ClassCanceled}
}

func (p *fakeProcessor) Send(stop, kill context.Context, j job.Job, gate func(int) error) job.Result {
	p.log.add("token:%s", j.SourceRef) // a real processor waits for its rate token here
	if gate != nil {
		if err := gate(1); err != nil {
			return gated(j)
		}
	}
	p.log.add("process:%s", j.SourceRef)
	if p.fn != nil {
		return p.fn(stop, kill, j)
	}
	return sent(j)
}

// fakeReport records rows and the Write/Sync order in the shared log.
type fakeReport struct {
	engine.Report

	log      *eventLog
	mu       sync.Mutex
	rows     []job.Result
	syncErr  error
	writeErr error
	closed   bool
}

var _ engine.Report = (*fakeReport)(nil)

func (r *fakeReport) Write(res job.Result) error {
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

func (r *fakeReport) byRef() map[string]job.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]job.Result{}
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

// fakeLedger logs claims ("intend:"), releases ("abandon:" when no call may have
// landed, "keep:" otherwise), renewals and outcomes. verdict, when set, answers claims;
// renewErr, when set, answers renewals.
type fakeLedger struct {
	engine.Ledger

	log       *eventLog
	intendErr error
	finishErr error
	verdict   func(j job.Job) job.ClaimVerdict
	renewErr  func(j job.Job) error
	// peek, when set, answers Peek (default Won: the claim decides); peekErr fails it.
	peek    func(j job.Job) job.ClaimVerdict
	peekErr error
}

var _ engine.Ledger = (*fakeLedger)(nil)

func (fl *fakeLedger) Peek(_ context.Context, j job.Job) (job.ClaimVerdict, error) {
	fl.log.add("peek:%s", j.SourceRef)
	if fl.peekErr != nil {
		return job.ClaimVerdict{}, fl.peekErr
	}
	if fl.peek != nil {
		return fl.peek(j), nil
	}
	return job.ClaimVerdict{Kind: job.Won}, nil
}

func (fl *fakeLedger) Claim(_ context.Context, j job.Job) (job.ClaimVerdict, error) {
	fl.log.add("intend:%s", j.SourceRef)
	if fl.intendErr != nil {
		return job.ClaimVerdict{}, fl.intendErr
	}
	if fl.verdict != nil {
		return fl.verdict(j), nil
	}
	return job.ClaimVerdict{Kind: job.Won}, nil
}

func (fl *fakeLedger) Renew(_ context.Context, j job.Job) error {
	fl.log.add("renew:%s", j.SourceRef)
	if fl.renewErr != nil {
		return fl.renewErr(j)
	}
	return nil
}

func (fl *fakeLedger) Finish(_ context.Context, j job.Job, r job.Result) error {
	fl.log.add("finish:%s:%s", j.SourceRef, r.Status)
	return fl.finishErr
}

func (fl *fakeLedger) Release(_ context.Context, j job.Job, mayHaveCalled bool) {
	if mayHaveCalled {
		fl.log.add("keep:%s", j.SourceRef)
		return
	}
	fl.log.add("abandon:%s", j.SourceRef)
}

// engineFixture wires an Engine to fakes; SourceRef i is the job's index.
type engineFixture struct {
	log    *eventLog
	src    *fakeSource
	proc   *fakeProcessor
	report *fakeReport
	engine *engine.Engine
	clock  *clockwork.FakeClock
}

func newEngineFixture(usernames ...string) *engineFixture {
	f := &engineFixture{log: &eventLog{}, clock: newFakeClock()}
	f.src = &fakeSource{}
	for i, u := range usernames {
		f.src.jobs = append(f.src.jobs, f.job(u, strconv.Itoa(i), true))
	}
	f.proc = &fakeProcessor{log: f.log}
	f.report = &fakeReport{log: f.log}
	f.engine = &engine.Engine{
		Source: f.src, Processor: f.proc, Report: f.report, Workers: 4, Clock: f.clock,
		OnResult: func(r job.Result) { f.log.add("result:%s", r.SourceRef) },
	}
	return f
}

// job builds a job whose Ack and (if redeliverable) Release are logged.
func (f *engineFixture) job(username, ref string, redeliverable bool) job.Job {
	j := job.Job{Username: username, SourceRef: ref}
	j.Ack = func(ctx context.Context, r job.Result) error {
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

func (f *engineFixture) run(t *testing.T, stop context.Context) (*engine.Summary, error) {
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
		case "release", "defer":
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
		require.Equal(t, job.StatusSent, rows[ref].Status, ref)
	}
	require.Equal(t, job.Result{Username: "ALICE", Status: job.StatusDuplicate,
		ErrorMessage: "username already has a row in this campaign", SourceRef: "2",
		StartedAt: clockStart, FinishedAt: clockStart, Class: job.ClassPerUser}, rows["2"])
	require.Equal(t, job.StatusDuplicate, rows["5"].Status)
	require.Equal(t, job.Result{Username: "", Status: job.StatusInvalidInput, ErrorCode: "InvalidInput",
		ErrorMessage: "username is empty", SourceRef: "3",
		StartedAt: clockStart, FinishedAt: clockStart, Class: job.ClassPerUser}, rows["3"])

	// Duplicates and invalid rows never reach the processor.
	require.ElementsMatch(t, []string{"process:0", "process:1", "process:4", "process:6"}, filter(f.log.all(), "process:"))
	require.ElementsMatch(t, []string{"ack:0:sent", "ack:1:sent", "ack:2:duplicate", "ack:3:invalid_input",
		"ack:4:sent", "ack:5:duplicate", "ack:6:sent"}, filter(f.log.all(), "ack:"))
	require.Zero(t, f.log.count("release:"))
	require.Equal(t, 7, f.log.count("result:"))

	require.Equal(t, 7, sum.Rows)
	require.Equal(t, map[job.Status]int{job.StatusSent: 4, job.StatusDuplicate: 2, job.StatusInvalidInput: 1}, sum.Counts)
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
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
	_, err := f.run(t, context.Background())
	require.NoError(t, err)
	rows := f.report.byRef()
	require.Equal(t, job.StatusSent, rows["0"].Status)
	require.Equal(t, job.StatusDuplicate, rows["1"].Status)
	require.Equal(t, job.StatusSent, rows["2"].Status)
	require.Equal(t, job.StatusDuplicate, rows["3"].Status)
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
			require.Equal(t, 50, sum.Counts[job.StatusDuplicate])
			require.Equal(t, 250, f.log.count("process:"))
			if batch == 1 {
				require.Equal(t, 300, f.log.count("sync"), "BatchSize 1 syncs every row")
			}
		})
	}
}

func TestEngineAdmitterWithPriorUsers(t *testing.T) {
	t.Parallel()

	// A caller-supplied Admitter carries usernames over (e.g. from a resumed report)
	// without changing the set they came in (the census reads it too).
	f := newEngineFixture("alice", "bob")
	prior := admit.NewSet(admit.CaseInsensitive)
	require.True(t, prior.Add("ALICE"))
	f.engine.Admitter = admit.New(admit.CaseInsensitive, prior)
	_, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, job.StatusDuplicate, f.report.byRef()["0"].Status)
	require.Equal(t, job.StatusSent, f.report.byRef()["1"].Status)
	require.Equal(t, 1, prior.Len())
}

// Initial rows (a resume's unknown users) go through the writer like every other row:
// durable before anything is acked, counted in the summary, seen by OnResult.
func TestEngineInitialRowsAreRecordedAndCounted(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("alice")
	f.engine.Initial = []job.Result{
		{Username: "bob", Status: job.StatusUnknown, SourceRef: "b", Class: job.ClassPerUser},
		{Username: "carol", Status: job.StatusUnknown, SourceRef: "c", Class: job.ClassPerUser},
	}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)
	rows := f.report.byRef()
	require.Equal(t, job.StatusUnknown, rows["b"].Status)
	require.Equal(t, job.StatusUnknown, rows["c"].Status)
	require.Equal(t, job.StatusSent, rows["0"].Status)
	require.Equal(t, map[job.Status]int{job.StatusUnknown: 2, job.StatusSent: 1}, sum.Counts)
	require.Equal(t, 3, sum.Rows)
	require.Equal(t, 3, f.log.count("result:"))
	require.Equal(t, []string{"write:b", "write:c"}, filter(f.log.all(), "write:")[:2], "recorded first")
}

func TestEngineSystemic(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("u0", "u1", "u2", "u3", "u4", "u5")
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
	f.proc.fn = func(_, _ context.Context, j job.Job) job.Result {
		if j.Username == "u2" {
			return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusFailed,
				Attempts: 1, ErrorCode: "NotAuthorizedException", ErrorMessage: "bad secret",
				Class: job.ClassSystemic, Fix: "fix it"}
		}
		return sent(j)
	}
	sum, err := f.run(t, context.Background())

	var sys *engine.SystemicError
	require.ErrorAs(t, err, &sys)
	require.Equal(t, engine.SystemicError{Code: "NotAuthorizedException", Message: "bad secret", Fix: "fix it"}, *sys)
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
	f.proc.fn = func(_, _ context.Context, j job.Job) job.Result {
		if j.Username == "u20" {
			return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusFailed,
				ErrorCode: "ForbiddenException", Class: job.ClassSystemic, Fix: "waf"}
		}
		return sent(j)
	}
	sum, err := f.run(t, context.Background())
	var sys *engine.SystemicError
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
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.proc.fn = func(_, _ context.Context, j job.Job) job.Result {
		if j.Username == "u1" {
			cancel() // soft stop while u1's call is in flight: it finishes
		}
		return sent(j)
	}
	sum, err := f.run(t, stop)
	require.ErrorIs(t, err, engine.ErrInterrupted)

	rows := f.report.byRef()
	require.Len(t, rows, 2)
	require.Equal(t, job.StatusSent, rows["1"].Status)
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
	f.engine.OnResult = func(r job.Result) {
		f.log.add("result:%s", r.SourceRef)
		if r.SourceRef == "2" {
			cancel()
		}
	}
	f.engine.BatchSize = 1
	// Process in order so that row 2 is the last.
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
	sum, err := f.run(t, stop)
	require.ErrorIs(t, err, engine.ErrInterrupted)
	require.Equal(t, 3, sum.Rows)
	require.Equal(t, 0, sum.Released)
}

func TestEngineAmbiguousReleaseKeepsIntent(t *testing.T) {
	t.Parallel()

	// A job stopped after a timeout/5xx attempt may have been sent: it is given back but
	// its intent stays (no Abandon).
	f := newEngineFixture("u0", "u1")
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
	f.engine.Ledger = &fakeLedger{log: f.log}
	f.proc.fn = func(_, _ context.Context, j job.Job) job.Result {
		if j.Username == "u0" {
			return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusFailed,
				Attempts: 1, ErrorCode: "Timeout", Class: job.ClassCanceled, Ambiguous: true}
		}
		return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusFailed,
			Attempts: 1, ErrorCode: "TooManyRequestsException", Class: job.ClassCanceled}
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
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
	j := &fakeLedger{log: f.log}
	f.engine.Ledger = j
	f.proc.fn = func(_, _ context.Context, j job.Job) job.Result {
		if j.Username == "u1" {
			return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusFailed,
				ErrorCode: "Canceled", Class: job.ClassCanceled}
		}
		return sent(j)
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
	f.proc.fn = func(_, _ context.Context, j job.Job) job.Result {
		if j.Username == "bob" {
			panic("boom")
		}
		return sent(j)
	}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)

	rows := f.report.byRef()
	require.Len(t, rows, 3)
	bob := rows["1"]
	require.Equal(t, "bob", bob.Username)
	require.Equal(t, job.StatusFailed, bob.Status)
	require.Equal(t, "Panic", bob.ErrorCode)
	require.Equal(t, "boom", bob.ErrorMessage)
	require.Equal(t, 1, bob.Attempts)
	require.Equal(t, job.ClassPerUser, bob.Class)
	require.Equal(t, job.StatusSent, rows["0"].Status)
	require.Equal(t, job.StatusSent, rows["2"].Status)
	require.Equal(t, map[job.Status]int{job.StatusSent: 2, job.StatusFailed: 1}, sum.Counts)
	require.Contains(t, filter(f.log.all(), "ack:"), "ack:1:failed")
}

func TestEnginePanicRowUsesClock(t *testing.T) {
	t.Parallel()

	f := newEngineFixture("bob")
	f.proc.fn = func(_, _ context.Context, j job.Job) job.Result { panic("boom") }
	_, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, clockStart, f.report.byRef()["0"].StartedAt)
	require.Equal(t, clockStart, f.report.byRef()["0"].FinishedAt)
}

func TestEngineSyncError(t *testing.T) {
	t.Parallel()

	errDisk := errors.New("no space left on device")
	f := newEngineFixture("u0", "u1", "u2", "u3", "u4")
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
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
	f.engine.Ledger = &fakeLedger{log: f.log}
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
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
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
	f.engine.Workers, f.engine.ClaimAhead = 1, -1
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
		first       job.Result
		release     bool
		wantSecond  job.Status
		wantProcess int
	}{
		{"retryable failure with Release", job.Result{Status: job.StatusFailed, Class: job.ClassRetryable, ErrorCode: "TooManyRequestsException", Attempts: 8}, true, job.StatusSent, 3},
		{"limit exceeded with Release", job.Result{Status: job.StatusLimitExceeded, Class: job.ClassPerUser, ErrorCode: "LimitExceededException", Attempts: 1}, true, job.StatusSent, 3},
		{"retryable failure without Release", job.Result{Status: job.StatusFailed, Class: job.ClassRetryable, Attempts: 8}, false, job.StatusDuplicate, 2},
		{"per-user failure with Release", job.Result{Status: job.StatusUserNotFound, Class: job.ClassPerUser, Attempts: 1}, true, job.StatusDuplicate, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEngineFixture()
			f.src.jobs = []job.Job{
				f.job("alice", "0", tt.release),
				f.job("bob", "1", tt.release),
				f.job("Alice", "2", tt.release), // the source delivers alice again
			}
			f.engine.Workers, f.engine.ClaimAhead = 1, -1 // alice's first result is in before the redelivery is read
			var mu sync.Mutex
			calls := 0
			f.proc.fn = func(_, _ context.Context, j job.Job) job.Result {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if j.SourceRef == "0" {
					r := tt.first
					r.Username, r.SourceRef = j.Username, j.SourceRef
					return r
				}
				return sent(j)
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

func TestEngineLedger(t *testing.T) {
	t.Parallel()

	t.Run("intent before the call", func(t *testing.T) {
		t.Parallel()
		f := newEngineFixture("u0", "u1")
		f.engine.Ledger = &fakeLedger{log: f.log}
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
		f.engine.Ledger = &fakeLedger{log: f.log, intendErr: errors.New("journal full")}
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
	j.Ack = func(context.Context, job.Result) error {
		f.log.add("ack:0:x")
		return errors.New("sqs down")
	}
	f.src.jobs = []job.Job{j, f.job("bob", "1", true)}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, sum.Rows)
	require.Equal(t, 2, f.log.count("ack:"))
}
func TestEngineKeepsIntentOfKilledCall(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("alice")
	f.engine.Ledger = &fakeLedger{log: f.log}
	f.engine.Processor = processorFunc(func(stop, kill context.Context, j job.Job) job.Result {
		return job.Result{Username: j.Username, SourceRef: j.SourceRef, Class: job.ClassCanceled, Attempts: 1, Ambiguous: true}
	})
	_, err := f.engine.Run(context.Background(), context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, f.log.count("intend:"))
	require.Equal(t, 0, f.log.count("abandon:"), "the call may have landed: the intent must stay")
	require.Equal(t, 1, f.log.count("release:"))
}

// When the ledger can't record intents, calling anyway would lose the no-second-code
// guarantee; silently releasing every job would hot-loop a queue. Stop instead.
func TestEngineStopsWhenLedgerFails(t *testing.T) {
	t.Parallel()
	users := make([]string, 50)
	for i := range users {
		users[i] = "u" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	f := newEngineFixture(users...)
	f.engine.Ledger = &fakeLedger{log: f.log, intendErr: errors.New("disk full")}
	_, err := f.engine.Run(context.Background(), context.Background())
	require.ErrorContains(t, err, "ledger")
	require.ErrorContains(t, err, "disk full")
	require.Equal(t, 0, f.log.count("process:"), "no call without an intent")
	require.Less(t, f.log.count("intend:"), len(users), "the campaign stopped instead of draining the source")
	require.Equal(t, 0, f.report.count())
}

type processorFunc func(stop, kill context.Context, j job.Job) job.Result

func (p processorFunc) Send(stop, kill context.Context, j job.Job, gate func(int) error) job.Result {
	if gate != nil {
		if err := gate(1); err != nil {
			return gated(j)
		}
	}
	return p(stop, kill, j)
}

type verifierFunc func(stop, kill context.Context, j job.Job) (job.Result, bool)

func (v verifierFunc) Verify(stop, kill context.Context, j job.Job) (job.Result, bool) {
	return v(stop, kill, j)
}

// The verify stage runs before the claim: a user it rules out gets its row with nothing
// claimed or sent; a user it lets through is claimed, then sent; a systemic or canceled
// verdict is given back like the processor's.
func TestEngineVerifier(t *testing.T) {
	t.Parallel()
	verdicts := func(f *engineFixture) engine.Verifier {
		return verifierFunc(func(_, _ context.Context, j job.Job) (job.Result, bool) {
			f.log.add("verify:%s", j.SourceRef)
			switch j.Username {
			case "ghost":
				return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusUserNotFound,
					ErrorCode: "UserNotFoundException", Class: job.ClassPerUser}, false
			case "off":
				return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusDisabled,
					ErrorCode: "UserDisabled", Class: job.ClassPerUser}, false
			case "denied":
				return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusFailed,
					ErrorCode: "AccessDeniedException", ErrorMessage: "no", Fix: "allow it", Class: job.ClassSystemic}, false
			case "stopped":
				return job.Result{Username: j.Username, SourceRef: j.SourceRef, Class: job.ClassCanceled}, false
			}
			return job.Result{}, true
		})
	}

	t.Run("rows without a claim, the rest claimed then sent", func(t *testing.T) {
		t.Parallel()
		f := newEngineFixture("alice", "ghost", "off", "bob")
		f.engine.Verifier = verdicts(f)
		f.engine.Ledger = &fakeLedger{log: f.log}
		sum, err := f.run(t, context.Background())
		require.NoError(t, err)
		rows := f.report.byRef()
		require.Equal(t, job.StatusSent, rows["0"].Status)
		require.Equal(t, job.StatusUserNotFound, rows["1"].Status)
		require.Equal(t, job.StatusDisabled, rows["2"].Status)
		require.Equal(t, job.StatusSent, rows["3"].Status)
		require.ElementsMatch(t, []string{"intend:0", "intend:3"}, filter(f.log.all(), "intend:"))
		require.ElementsMatch(t, []string{"process:0", "process:3"}, filter(f.log.all(), "process:"))
		ev := f.log.all()
		for _, ref := range []string{"0", "3"} {
			require.Less(t, slices.Index(ev, "verify:"+ref), slices.Index(ev, "intend:"+ref), "verify before the claim")
		}
		require.Equal(t, 1, sum.Counts[job.StatusDisabled])
		require.Equal(t, 4, f.log.count("ack:"))
	})
	t.Run("systemic verdict stops the run, nothing claimed", func(t *testing.T) {
		t.Parallel()
		f := newEngineFixture("denied", "alice")
		f.engine.Workers, f.engine.ClaimAhead = 1, -1
		f.engine.Verifier = verdicts(f)
		f.engine.Ledger = &fakeLedger{log: f.log}
		sum, err := f.run(t, context.Background())
		var sys *engine.SystemicError
		require.ErrorAs(t, err, &sys)
		require.Equal(t, "AccessDeniedException", sys.Code)
		require.Equal(t, "allow it", sys.Fix)
		require.Zero(t, f.log.count("intend:"))
		require.Zero(t, f.log.count("process:"))
		require.Contains(t, filter(f.log.all(), "release:"), "release:0")
		require.Zero(t, sum.Rows)
	})
	t.Run("canceled verdict is given back", func(t *testing.T) {
		t.Parallel()
		f := newEngineFixture("stopped")
		f.engine.Verifier = verdicts(f)
		f.engine.Ledger = &fakeLedger{log: f.log}
		sum, err := f.run(t, context.Background())
		require.NoError(t, err)
		require.Equal(t, []string{"release:0"}, filter(f.log.all(), "release:"))
		require.Zero(t, f.log.count("intend:"))
		require.Zero(t, sum.Rows)
		require.Equal(t, 1, sum.Released)
	})
}

// The message the verify stage chose (the user's state) is the one the processor is
// asked to send, and the claim is taken for: the job carries it from verify to the call.
func TestEngineVerifierChoosesTheMessage(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("alice", "adam")
	var mu sync.Mutex
	got := map[string]job.Message{}
	f.engine.Verifier = verifierFunc(func(_, _ context.Context, j job.Job) (job.Result, bool) {
		if j.Username == "adam" {
			return job.Result{Message: job.MessageInvitation}, true
		}
		return job.Result{Message: job.MessageConfirmation}, true
	})
	f.engine.Processor = processorFunc(func(_, _ context.Context, j job.Job) job.Result {
		mu.Lock()
		got[j.Username] = j.Message
		mu.Unlock()
		return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusSent, Attempts: 1, Message: j.Message}
	})
	f.engine.Ledger = &fakeLedger{log: f.log}
	_, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, map[string]job.Message{"alice": job.MessageConfirmation, "adam": job.MessageInvitation}, got)
	require.Equal(t, job.MessageInvitation, f.report.byRef()["1"].Message)
}
