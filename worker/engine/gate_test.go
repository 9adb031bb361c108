package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Claim at the call: a user is claimed only once its rate token is in hand (the
// processor's gate), so a job that only waited for a token leaves no claim behind; a
// claim whose lease lapsed ends the job's attempts (the lease is the fence); a user held
// by another owner is looked at again soon, with a ledger read and no token.

// gatedProcessor is a processor that gets the gate itself.
type gatedProcessor func(stop, kill context.Context, j job.Job, gate func(int) error) job.Result

func (p gatedProcessor) Send(stop, kill context.Context, j job.Job, gate func(int) error) job.Result {
	return p(stop, kill, j, gate)
}

// syncBuffer is a log destination shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines are the JSON log records whose msg starts with prefix.
func (s *syncBuffer) lines(t *testing.T, prefix string) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for l := range strings.Lines(s.b.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		if strings.HasPrefix(m["msg"].(string), prefix) {
			out = append(out, m)
		}
	}
	return out
}

func jsonLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Jobs stopped while waiting for their rate tokens leave no claim (no intent) to be
// judged unknown later: nothing was claimed, so nothing is released in the ledger.
func TestEngineNoClaimWhileWaitingForAToken(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("u0", "u1", "u2", "u3")
	f.engine.Ledger = &fakeLedger{log: f.log}
	waiting := make(chan struct{}, 4)
	f.engine.Processor = gatedProcessor(func(stop, _ context.Context, j job.Job, _ func(int) error) job.Result {
		waiting <- struct{}{}
		<-stop.Done() // the limiter's Wait: no token before the stop
		return job.Result{Username: j.Username, SourceRef: j.SourceRef, Class: job.ClassCanceled, ErrorCode: "Canceled"}
	})
	stop, cancel := context.WithCancel(context.Background())
	done := make(chan *engine.Summary, 1)
	go func() { sum, _ := f.engine.Run(stop, context.Background()); done <- sum }()
	for range 4 {
		<-waiting
	}
	cancel()
	sum := <-done
	require.Zero(t, f.log.count("intend:"), "no claim before a token")
	require.Zero(t, f.log.count("abandon:")+f.log.count("keep:"), "nothing to give back to the ledger")
	require.Equal(t, 4, f.log.count("peek:"), "each user was looked at (a read)")
	require.Equal(t, 4, f.log.count("release:"), "every job back at its source")
	require.Equal(t, 4, sum.Released)
	require.Zero(t, f.report.count())
}

// A ledger that settles the job on a look (recently sent, expired, held) costs no rate
// token and makes no claim; a claim refused after the token was taken makes no call.
func TestEngineVerdictsBeforeAndAfterTheToken(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("peeked", "refused", "won")
	f.engine.Ledger = &fakeLedger{log: f.log,
		peek: func(j job.Job) job.ClaimVerdict {
			if j.Username == "peeked" {
				return job.ClaimVerdict{Kind: job.RecentlySent, At: clockStart, Owner: "o", Campaign: "c"}
			}
			return job.ClaimVerdict{Kind: job.Won}
		},
		verdict: func(j job.Job) job.ClaimVerdict {
			if j.Username == "refused" { // sent by another owner between the look and the claim
				return job.ClaimVerdict{Kind: job.RecentlySent, At: clockStart, Owner: "o", Campaign: "c"}
			}
			return job.ClaimVerdict{Kind: job.Won}
		}}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, []string{"token:1", "token:2"}, sortStrings(filter(f.log.all(), "token:")), "no token for a settled look")
	require.Equal(t, []string{"intend:1", "intend:2"}, sortStrings(filter(f.log.all(), "intend:")))
	require.Equal(t, []string{"process:2"}, filter(f.log.all(), "process:"), "a refused claim is not called")
	require.Equal(t, map[job.Status]int{job.StatusRecentlySent: 2, job.StatusSent: 1}, sum.Counts)
}

func sortStrings(s []string) []string { return slices.Sorted(slices.Values(s)) }

// The lease is the fence: an attempt that may have landed, then a pause longer than the
// lease, and the job makes no further attempt: its row is unknown (reason lease_lapsed,
// logged), its outcome recorded ambiguous. Without an ambiguous attempt the claim is
// given back and the user claimed again.
func TestEngineLapsedLeaseIsTheFence(t *testing.T) {
	t.Parallel()
	for _, ambiguous := range []bool{true, false} {
		t.Run(map[bool]string{true: "ambiguous attempt: unknown", false: "nothing sent: claimed again"}[ambiguous], func(t *testing.T) {
			t.Parallel()
			f := newEngineFixture("alice")
			f.src.jobs[0].Release = nil // a CSV: the engine claims it again itself
			var logs syncBuffer
			f.engine.Logger = jsonLogger(&logs)
			f.engine.Lease, f.engine.RenewInterval = 6*time.Second, 2*time.Second
			f.engine.Ledger = &fakeLedger{log: f.log}
			var mu sync.Mutex
			var second []error // gate's answers to a second attempt
			calls := 0
			f.engine.Processor = gatedProcessor(func(stop, _ context.Context, j job.Job, gate func(int) error) job.Result {
				mu.Lock()
				calls++
				first := calls == 1
				mu.Unlock()
				require.NoError(t, gate(1))
				if !first {
					return sent(j)
				}
				f.log.add("attempt:%s", j.SourceRef)
				f.clock.Advance(20 * time.Second) // the process was stopped (SIGSTOP) during the call
				err := gate(2)
				mu.Lock()
				second = append(second, err)
				mu.Unlock()
				if err == nil {
					f.log.add("attempt:%s", j.SourceRef)
					return sent(j)
				}
				code := "RequestTimeout"
				if !ambiguous {
					code = "TooManyRequestsException"
				}
				return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusFailed, Class: job.ClassCanceled,
					ErrorCode: code, Attempts: 1, Ambiguous: ambiguous, StartedAt: clockStart}
			})
			sum, err := f.run(t, context.Background())
			require.NoError(t, err)
			require.Len(t, second, 1)
			require.ErrorIs(t, second[0], engine.ErrLeaseLapsed)
			require.Equal(t, 1, f.log.count("attempt:"), "no attempt after the lease lapsed")
			require.Zero(t, f.log.count("renew:"), "a lapsed claim is not renewed")
			row := f.report.byRef()["0"]
			if ambiguous {
				require.Equal(t, job.StatusUnknown, row.Status)
				require.Contains(t, row.ErrorMessage, "attempt 1 may have reached Cognito (RequestTimeout)")
				require.Equal(t, []string{"finish:0:unknown"}, filter(f.log.all(), "finish:"), "recorded as ambiguous")
				require.Zero(t, f.log.count("abandon:")+f.log.count("keep:"))
				require.Equal(t, 1, f.log.count("intend:"))
				lines := logs.lines(t, "unknown:")
				require.Len(t, lines, 1)
				require.Equal(t, "alice", lines[0]["username"])
				require.Equal(t, engine.ReasonLeaseLapsed, lines[0]["reason"])
				require.Equal(t, map[job.Status]int{job.StatusUnknown: 1}, sum.Counts)
				return
			}
			require.Equal(t, job.StatusSent, row.Status, "nothing could have landed: claimed again and sent")
			require.Equal(t, []string{"abandon:0"}, filter(f.log.all(), "abandon:"), "the lapsed claim given back first")
			require.Equal(t, 2, f.log.count("intend:"))
			require.Empty(t, logs.lines(t, "unknown:"))
		})
	}
}

// A user another owner holds is looked at again after HeldRecheck — a read, no token,
// no claim — not after the rest of the holder's lease; the log and OnHeld say how many
// wait and on whom.
func TestEngineHeldUserLookedAtAgainSoon(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("alice", "bob")
	for i := range f.src.jobs {
		f.src.jobs[i].Release = nil
	}
	var logs syncBuffer
	f.engine.Logger = jsonLogger(&logs)
	holder := job.ClaimVerdict{Kind: job.Busy, At: clockStart.Add(30 * time.Second), Owner: "host/1/ab", Campaign: "spring"}
	var mu sync.Mutex
	looks := 0
	f.engine.Ledger = &fakeLedger{log: f.log, peek: func(j job.Job) job.ClaimVerdict {
		mu.Lock()
		defer mu.Unlock()
		if j.Username == "alice" {
			looks++
			if looks <= 3 {
				return holder
			}
		}
		return job.ClaimVerdict{Kind: job.Won}
	}}
	var held []int
	f.engine.OnHeld = func(n int, oldest job.ClaimVerdict) {
		mu.Lock()
		defer mu.Unlock()
		held = append(held, n)
		if n > 0 {
			require.Equal(t, holder, oldest)
		}
	}
	done := make(chan *engine.Summary, 1)
	go func() { sum, _ := f.engine.Run(context.Background(), context.Background()); done <- sum }()
	for range 3 { // each look waits one HeldRecheckDefault on the clock, not 30 s
		require.NoError(t, f.clock.BlockUntilContext(t.Context(), 1))
		f.clock.Advance(engine.HeldRecheckDefault)
	}
	sum := <-done
	require.Equal(t, job.StatusSent, f.report.byRef()["0"].Status)
	require.Equal(t, 3, sum.Deferred)
	require.Zero(t, sum.Held)
	require.Equal(t, []string{"intend:0", "intend:1"}, sortStrings(filter(f.log.all(), "intend:")), "one claim, when free")
	require.Equal(t, []string{"token:0", "token:1"}, sortStrings(filter(f.log.all(), "token:")), "no token for a look")
	require.Equal(t, []int{1, 1, 1, 0}, held)
	lines := logs.lines(t, "user held by another owner")
	require.Len(t, lines, 1, "one line when the user starts waiting")
	require.Equal(t, "spring", lines[0]["holder_campaign"])
	require.Equal(t, "host/1/ab", lines[0]["oldest_holder_replica"])
	require.EqualValues(t, 1, lines[0]["users_held"])
}

// Every unknown row gets one log line with its reason: a resumed campaign's intents
// without a row, and another owner's expired claim.
func TestEngineLogsEveryUnknown(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("bob")
	var logs syncBuffer
	f.engine.Logger = jsonLogger(&logs)
	f.engine.Initial = []job.Result{{Username: "carol", SourceRef: "7", Status: job.StatusUnknown, ErrorCode: "Unknown",
		ErrorMessage: "the run stopped after the call was started"}}
	f.engine.Ledger = &fakeLedger{log: f.log, peek: func(job.Job) job.ClaimVerdict {
		return job.ClaimVerdict{Kind: job.Expired, At: clockStart, Owner: "o", Campaign: "c"}
	}}
	sum, err := f.run(t, context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, sum.Counts[job.StatusUnknown])
	reasons := map[string]string{}
	for _, l := range logs.lines(t, "unknown:") {
		reasons[l["username"].(string)] = l["reason"].(string)
		require.NotEmpty(t, l["detail"])
	}
	require.Equal(t, map[string]string{"carol": engine.ReasonIntentWithoutOutcome, "bob": engine.ReasonLeaseExpired}, reasons)
}

// ClaimsInFlight bounds the claims being written at once: a stalled ledger can hold no
// more claim writes than that, whatever the workers.
func TestEngineBoundsClaimsInFlight(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("u0", "u1", "u2", "u3", "u4", "u5")
	f.engine.Workers = 6
	f.engine.ClaimsInFlight = 2
	stalled := make(chan struct{}) // the ledger answers no claim until closed
	f.engine.Ledger = &fakeLedger{log: f.log, verdict: func(job.Job) job.ClaimVerdict {
		<-stalled
		return job.ClaimVerdict{Kind: job.Won}
	}}
	done := make(chan *engine.Summary, 1)
	go func() { sum, _ := f.engine.Run(context.Background(), context.Background()); done <- sum }()
	// Every worker has its token; two claims are being written, the rest wait for them.
	require.Eventually(t, func() bool { return f.log.count("token:") == 6 && f.log.count("intend:") == 2 },
		10*time.Second, time.Millisecond)
	require.Equal(t, 2, f.log.count("intend:"), "no third claim while two are unanswered")
	close(stalled)
	sum := <-done
	require.Equal(t, 6, sum.Counts[job.StatusSent])
	require.Equal(t, 6, f.log.count("intend:"))
}
