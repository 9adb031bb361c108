package campaign

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// fakePauser records the source's pauses and resumes.
type fakePauser struct {
	mu     sync.Mutex
	events []string
}

func (f *fakePauser) Pause(reason string) {
	f.mu.Lock()
	f.events = append(f.events, "pause: "+reason)
	f.mu.Unlock()
}
func (f *fakePauser) Resume() { f.mu.Lock(); f.events = append(f.events, "resume"); f.mu.Unlock() }
func (f *fakePauser) get() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.events...)
}

// waitingProcessor is a job that waits for its stop (a rate token in an outage).
type waitingProcessor struct{ started chan struct{} }

func (p waitingProcessor) Send(stop, _ context.Context, j job.Job, _ func(int) error) job.Result {
	p.started <- struct{}{}
	<-stop.Done()
	return job.Result{Username: j.Username, Class: job.ClassCanceled}
}

// The outage gate: a hold pauses the source, ends the stop of the jobs in hand (they give
// their message back), probes once however often the breaker trips meanwhile, and
// resumes receiving at the answer; jobs started after it run under the run's stop alone.
func TestOutageGate(t *testing.T) {
	t.Parallel()
	src := &fakePauser{}
	answer := make(chan struct{})
	probes := 0
	g := newOutageGate(t.Context(), src, func(stop context.Context) (int, error) {
		probes++
		select {
		case <-answer:
			return 3, nil
		case <-stop.Done():
			return 0, stop.Err()
		}
	}, slog.New(slog.DiscardHandler))
	proc := gatedProcessor{Processor: waitingProcessor{started: make(chan struct{}, 1)}, gate: g}

	res := make(chan job.Result, 1)
	go func() { res <- proc.Send(t.Context(), t.Context(), job.Job{Username: "alice"}, nil) }()
	<-proc.Processor.(waitingProcessor).started
	g.hold("Cognito unreachable (x)")
	select {
	case r := <-res:
		require.Equal(t, job.ClassCanceled, r.Class, "the job in hand gives its message back")
	case <-time.After(10 * time.Second):
		t.Fatal("the job in hand was not stopped by the outage")
	}
	g.hold("Cognito unreachable: no answer for 2m") // a later trip: the reason only
	require.Equal(t, []string{"pause: Cognito unreachable (x)", "pause: Cognito unreachable: no answer for 2m"}, src.get())

	close(answer)
	require.Eventually(t, func() bool { return len(src.get()) == 3 }, 10*time.Second, time.Millisecond)
	require.Equal(t, "resume", src.get()[2])
	require.Equal(t, 1, probes, "one probe loop per outage")

	// After the outage a job runs until the run's stop.
	stop, cancel := context.WithCancel(t.Context())
	go func() { res <- proc.Send(stop, t.Context(), job.Job{Username: "bob"}, nil) }()
	<-proc.Processor.(waitingProcessor).started
	select {
	case <-res:
		t.Fatal("a job after the outage was stopped")
	case <-time.After(50 * time.Millisecond): // bounded: it must still be waiting
	}
	cancel()
	require.Equal(t, job.ClassCanceled, (<-res).Class)
}
