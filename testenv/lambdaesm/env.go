package lambdaesm

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// invocation is one batch handed to an environment.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time     // set by /next when the runtime takes it
	started  chan struct{} // closed by /next once deadline is set
	done     chan answer   // the first /response or /error
}

type answer struct {
	err  bool
	body []byte
}

// Env is one execution environment: a process of the function and its Runtime API.
type Env struct {
	esm *ESM
	i   int
	ln  net.Listener
	srv *http.Server

	next chan *invocation // to the runtime's /next

	mu        sync.Mutex
	cmd       *exec.Cmd
	exited    chan struct{}
	startedAt time.Time
	coldDone  bool
	current   *invocation
	closed    bool
}

func newEnv(e *ESM, i int) (*Env, error) {
	ln, err := listen()
	if err != nil {
		return nil, err
	}
	env := &Env{esm: e, i: i, ln: ln, next: make(chan *invocation)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", env.serveNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		env.serveAnswer(w, r, false)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		env.serveAnswer(w, r, true)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		e.count(func(s *Stats) { s.InitErrors = append(s.InitErrors, string(body)) })
		w.WriteHeader(http.StatusAccepted)
	})
	env.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = env.srv.Serve(ln) }()
	return env, nil
}

// RuntimeAPI is the AWS_LAMBDA_RUNTIME_API of this environment.
func (env *Env) RuntimeAPI() string { return env.ln.Addr().String() }

// Kill sends SIGKILL to the environment's process (a crash: its invocation fails as a
// whole; the next one starts a new process).
func (env *Env) Kill() error { return env.signal(os.Kill) }

// Freeze sends SIGSTOP to the process (Unix only): its invocation times out, and the ESM
// then ends the environment (SIGKILL) as Lambda does.
func (env *Env) Freeze() error {
	if sigStop == nil {
		return errors.New("lambdaesm: Freeze needs SIGSTOP (Unix)")
	}
	return env.signal(sigStop)
}

func (env *Env) signal(sig os.Signal) error {
	env.mu.Lock()
	defer env.mu.Unlock()
	if env.cmd == nil {
		return errExited
	}
	return signal(env.cmd.Process, sig)
}

// InFlight reports whether the environment is inside an invocation.
func (env *Env) InFlight() bool {
	env.mu.Lock()
	defer env.mu.Unlock()
	return env.current != nil
}

func (env *Env) serveNext(w http.ResponseWriter, r *http.Request) {
	env.mu.Lock()
	if !env.coldDone && !env.startedAt.IsZero() {
		env.coldDone = true
		took := time.Since(env.startedAt)
		env.esm.count(func(s *Stats) { s.ColdStarts = append(s.ColdStarts, took) })
	}
	env.mu.Unlock()
	var inv *invocation
	select {
	case inv = <-env.next:
	case <-r.Context().Done():
		return
	}
	inv.deadline = time.Now().Add(env.esm.cfg.Timeout)
	close(inv.started)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:REGION:ACCOUNT_ID:function:"+env.esm.cfg.FunctionName)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
	_, _ = w.Write(inv.payload)
}

func (env *Env) serveAnswer(w http.ResponseWriter, r *http.Request, isErr bool) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 6<<20))
	env.mu.Lock()
	inv := env.current
	env.mu.Unlock()
	if inv == nil || inv.id != r.PathValue("id") {
		http.Error(w, `{"errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return
	}
	select {
	case inv.done <- answer{err: isErr, body: body}:
	default: // answered already
	}
	w.WriteHeader(http.StatusAccepted)
}

// start starts a new process for the environment.
func (env *Env) start() error {
	cmd := env.esm.cfg.Command(env.i)
	cmd.Env = append(cmd.Env, "AWS_LAMBDA_RUNTIME_API="+env.RuntimeAPI(),
		"AWS_LAMBDA_FUNCTION_NAME="+env.esm.cfg.FunctionName, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST")
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	env.mu.Lock()
	env.cmd, env.exited, env.startedAt, env.coldDone = cmd, exited, time.Now(), false
	env.mu.Unlock()
	return nil
}

func (env *Env) running() (chan struct{}, bool) {
	env.mu.Lock()
	defer env.mu.Unlock()
	if env.cmd == nil {
		return nil, false
	}
	select {
	case <-env.exited:
		return nil, false
	default:
		return env.exited, true
	}
}

// kill ends the process and waits for it.
func (env *Env) kill() {
	env.mu.Lock()
	cmd, exited := env.cmd, env.exited
	env.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = signal(cmd.Process, os.Kill)
	<-exited
}

func (env *Env) close() {
	env.mu.Lock()
	env.closed = true
	env.mu.Unlock()
	env.kill()
	_ = env.srv.Close()
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return strings.Join([]string{h[:8], h[8:12], h[12:16], h[16:20], h[20:]}, "-")
}

// loop is the environment's poller: receive a batch, invoke, settle; a process is
// started when there is none (a cold start) and ended on a timeout.
func (env *Env) loop() {
	e := env.esm
	ctx := e.ctx
	for ctx.Err() == nil {
		if _, ok := env.running(); !ok {
			if err := env.start(); err != nil {
				panic(fmt.Sprintf("lambdaesm: start environment %d: %v", env.i, err))
			}
		}
		batch := e.receive(ctx)
		if len(batch) == 0 {
			continue
		}
		inv := &invocation{id: newID(), payload: e.event(batch), started: make(chan struct{}), done: make(chan answer, 1)}
		env.mu.Lock()
		env.current = inv
		env.mu.Unlock()
		e.count(func(s *Stats) { s.Invocations++; s.Messages += len(batch) })
		whole, handed := false, false
		for attempt := 0; attempt < 3 && !handed && ctx.Err() == nil; attempt++ {
			exited, ok := env.running()
			if !ok {
				if err := env.start(); err != nil {
					panic(fmt.Sprintf("lambdaesm: start environment %d: %v", env.i, err))
				}
				exited, _ = env.running()
			}
			init := time.NewTimer(e.cfg.InitTimeout)
			select {
			case env.next <- inv:
				handed = true
			case <-exited: // died before taking it: a new process takes it
			case <-init.C:
				env.kill() // an init that never ends
			case <-ctx.Done():
			}
			init.Stop()
		}
		if !handed {
			whole = true
			e.count(func(s *Stats) { s.Crashes++ })
		} else {
			<-inv.started
			exited, _ := env.running()
			if exited == nil {
				exited = make(chan struct{}) // a process that died just now: the answer or the timeout
			}
			timer := time.NewTimer(time.Until(inv.deadline))
			select {
			case a := <-inv.done:
				if a.err {
					whole = true
					e.count(func(s *Stats) { s.Errors++ })
				} else {
					deleted, w := e.settle(batch, a.body)
					whole = w
					e.count(func(s *Stats) { s.Deleted += deleted; s.Responses++ })
				}
			case <-exited:
				whole = true
				e.count(func(s *Stats) { s.Crashes++ })
			case <-timer.C:
				whole = true
				e.count(func(s *Stats) { s.Timeouts++ })
				env.kill() // Lambda ends an environment whose invocation timed out
			case <-ctx.Done():
			}
			timer.Stop()
		}
		env.mu.Lock()
		env.current = nil
		env.mu.Unlock()
		if whole && ctx.Err() == nil {
			e.count(func(s *Stats) { s.WholeFailures++ })
			sleep(ctx, e.cfg.Backoff)
		}
	}
}
