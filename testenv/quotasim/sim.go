package quotasim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sim is the simulator; it is an http.Handler. Create it with New.
type Sim struct {
	clock     Clock
	bucket    *Bucket
	cats      categoryBuckets // the per-category quotas of untargeted reads (categories.go)
	ops       opCounters      // calls per operation
	c         *counters
	transport *http.Transport

	cfgMu sync.Mutex // serialises SetConfig / Reset
	st    atomic.Pointer[state]

	rngMu sync.Mutex
	rng   *rand.Rand

	reqID    atomic.Uint64
	idPrefix string

	closed    chan struct{}
	closeOnce sync.Once
}

// state is the immutable per-config part, swapped atomically by SetConfig.
type state struct {
	cfg        Config
	proxy      *httputil.ReverseProxy // nil in instant mode
	injUsed    map[string]*atomic.Int64
	injAllUsed *atomic.Int64
	targets    map[string]bool // operations limited (Config.Targets, or DefaultTarget)
	faulty     bool            // any fault probability > 0
	cum        [4]float64      // cumulative probabilities: reset, timeout, 503, 5xx
	random     bool            // faults or jitter need the RNG
	emailsSent *atomic.Int64   // sends counted against DailyEmailLimit
}

// DailyEmailLimitMessage is Cognito's answer once the account's daily email cap is spent.
const DailyEmailLimitMessage = "Exceeded daily email limit for the operation or the account. If a higher limit is " +
	"required, please configure your user pool to use your own Amazon SES configuration for sending email."

// New validates cfg and returns a simulator.
func New(cfg Config) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = RealClock
	}
	s := &Sim{
		clock:  clock,
		c:      newCounters(),
		closed: make(chan struct{}),
		transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          4096,
			MaxIdleConnsPerHost:   4096,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: 0, // timeouts belong to the client under test
			DisableCompression:    true,
			ForceAttemptHTTP2:     false,
		},
	}
	seed := uint64(cfg.Seed)
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.idPrefix = fmt.Sprintf("%08x-%04x-4%03x-8%03x-", s.rng.Uint32(), s.rng.Uint32()&0xffff, s.rng.Uint32()&0xfff, s.rng.Uint32()&0xfff)
	s.bucket = NewBucket(clock, cfg.Rate, cfg.effectiveBurst())
	s.cats = newCategoryBuckets(clock)
	st, err := s.buildState(cfg, nil)
	if err != nil {
		return nil, err
	}
	s.st.Store(st)
	return s, nil
}

func (s *Sim) buildState(cfg Config, prev *state) (*state, error) {
	cfg = cfg.clone()
	cfg.Clock = nil
	st := &state{cfg: cfg}
	if cfg.Upstream != "" {
		if prev != nil && prev.proxy != nil && prev.cfg.Upstream == cfg.Upstream {
			st.proxy = prev.proxy
		} else {
			u, err := url.Parse(cfg.Upstream)
			if err != nil {
				return nil, err
			}
			st.proxy = s.newProxy(u)
		}
	}
	if prev != nil && reflect.DeepEqual(prev.cfg.Inject, cfg.Inject) {
		st.injUsed = prev.injUsed
	} else {
		st.injUsed = make(map[string]*atomic.Int64, len(cfg.Inject))
		for u := range cfg.Inject {
			st.injUsed[u] = new(atomic.Int64)
		}
	}
	st.emailsSent = new(atomic.Int64)
	if prev != nil && prev.cfg.DailyEmailLimit == cfg.DailyEmailLimit {
		st.emailsSent = prev.emailsSent
	}
	if prev != nil && reflect.DeepEqual(prev.cfg.InjectAll, cfg.InjectAll) {
		st.injAllUsed = prev.injAllUsed
	} else {
		st.injAllUsed = new(atomic.Int64)
	}
	st.targets = map[string]bool{DefaultTarget: true}
	if len(cfg.Targets) > 0 {
		st.targets = make(map[string]bool, len(cfg.Targets))
		for _, t := range cfg.Targets {
			st.targets[t] = true
		}
	}
	st.cum[0] = cfg.PReset
	st.cum[1] = st.cum[0] + cfg.PTimeout
	st.cum[2] = st.cum[1] + cfg.P503
	st.cum[3] = st.cum[2] + cfg.P5xx
	st.faulty = st.cum[3] > 0
	st.random = st.faulty || cfg.LatencyJitter > 0
	return st, nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

type proxyBufPool struct{ p sync.Pool }

func (p *proxyBufPool) Get() []byte {
	if b, ok := p.p.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32*1024)
}

func (p *proxyBufPool) Put(b []byte) { p.p.Put(&b) }

var sharedProxyBufs = &proxyBufPool{}

func (s *Sim) newProxy(u *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport:  s.transport,
		BufferPool: sharedProxyBufs,
		ErrorLog:   nil,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client gave up; nobody is listening
			}
			s.c.upstreamErrors.Add(1)
			s.writeAWSError(w, http.StatusBadGateway, "InternalErrorException", "quotasim: upstream: "+err.Error())
		},
	}
}

// Config returns the current configuration (Clock is not included).
func (s *Sim) Config() Config { return s.st.Load().cfg.clone() }

// SetConfig replaces the configuration at run time. The clock given to New
// is kept (cfg.Clock is ignored). Tokens already in the bucket are kept,
// capped at the new burst. Injection "Times" counters restart only for
// injections whose definition changed. A non-zero Seed different from the
// current one re-seeds the RNG.
func (s *Sim) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	prev := s.st.Load()
	st, err := s.buildState(cfg, prev)
	if err != nil {
		return err
	}
	if cfg.Seed != 0 && cfg.Seed != prev.cfg.Seed {
		s.rngMu.Lock()
		s.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15))
		s.rngMu.Unlock()
	}
	s.bucket.SetLimit(cfg.Rate, cfg.effectiveBurst())
	s.st.Store(st)
	return nil
}

// Reset zeroes every counter, refills the bucket and re-arms "Times"-limited injections.
func (s *Sim) Reset() {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	st := s.st.Load()
	for _, a := range st.injUsed {
		a.Store(0)
	}
	st.injAllUsed.Store(0)
	st.emailsSent.Store(0) // a new day
	s.bucket.Refill()
	s.cats.refill()
	s.ops.reset()
	s.c.reset()
}

// Stats returns a snapshot of the counters, including per-user counters.
func (s *Sim) Stats() Stats {
	st := s.c.snapshot(true)
	st.PerOp = s.ops.snapshot()
	return st
}

// Close releases requests held by timeout faults and idle upstream
// connections. The Sim keeps serving afterwards, but timeouts no longer hold.
func (s *Sim) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.transport.CloseIdleConnections()
}

// ---- request handling ----

const (
	headerTarget  = "X-Amz-Target"
	amzJSON       = "application/x-amz-json-1.1"
	controlPrefix = "/__sim/"
)

var (
	hdrContentType = []string{amzJSON}
	instantBody    = []byte(`{"CodeDeliveryDetails":{"AttributeName":"email","DeliveryMedium":"EMAIL","Destination":"u***@e***.com"}}`)
	instantLen     = []string{strconv.Itoa(len(instantBody))}
	emptyBody      = []byte(`{}`)
	emptyLen       = []string{"2"}
	throttleBody   = []byte(`{"__type":"TooManyRequestsException","message":"Too many requests"}`)
	throttleLen    = []string{strconv.Itoa(len(throttleBody))}
	throttleType   = []string{"TooManyRequestsException"}
	zeroLen        = []string{"0"}
)

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p != "/" && p != "" {
		if strings.HasPrefix(p, controlPrefix) {
			s.serveControl(w, r)
			return
		}
		if p == "/health" {
			w.Header()["Content-Type"] = []string{"text/plain; charset=utf-8"}
			_, _ = io.WriteString(w, "ok\n")
			return
		}
	}
	st := s.st.Load()
	target := r.Header.Get(headerTarget)
	op := target[strings.LastIndexByte(target, '.')+1:]
	if !st.targets[op] && !(st.cfg.LimitAllTargets && op != "") {
		s.c.passthrough.Add(1)
		if !s.serveCategory(w, r, op) {
			return
		}
		s.forward(st, w, r, op)
		return
	}
	s.serveLimited(st, w, r, op)
}

func (s *Sim) serveLimited(st *state, w http.ResponseWriter, r *http.Request, op string) {
	// Read the body once: decode the username, then re-buffer for the proxy.
	var body []byte
	if st.proxy == nil {
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		_, err := buf.ReadFrom(r.Body)
		defer bufPool.Put(buf)
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		body = buf.Bytes()
	} else {
		// The proxy's transport may read the body after ServeHTTP returns,
		// so proxy-mode bodies are not pooled.
		n := r.ContentLength
		if n < 0 || n > 1<<20 {
			n = 512
		}
		b := bytes.NewBuffer(make([]byte, 0, n))
		if _, err := b.ReadFrom(r.Body); err != nil {
			panic(http.ErrAbortHandler)
		}
		body = b.Bytes()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.TransferEncoding = nil
	}
	user := usernameOf(body)

	now := s.clock.Now()
	perOpUser := ""
	if namesOneUser(op) || op == DefaultTarget {
		perOpUser = user
	}
	s.c.calls.Add(1)
	s.c.markCall(now)
	uc := s.c.user(user)
	uc.calls.Add(1)
	cc := s.c.clients.get(clientOf(r.Header))
	cc.calls.Add(1)

	allowed := s.bucket.Allow()
	s.ops.add(op, perOpUser, !allowed)
	if !allowed {
		s.c.throttled.Add(1)
		uc.throttled.Add(1)
		cc.throttled.Add(1)
		s.c.hist.add(now, 0, 1)
		cc.hist.add(now, 0, 1)
		s.writeThrottle(w)
		return
	}
	cc.admitted.Add(1)

	var u float64 // uniform draw for faults
	var delay time.Duration
	if st.random {
		s.rngMu.Lock()
		u = s.rng.Float64()
		delay = jittered(st.cfg.LatencyFixed, st.cfg.LatencyJitter, s.rng.Float64())
		s.rngMu.Unlock()
	} else {
		delay = st.cfg.LatencyFixed
	}
	if delay > 0 && !s.wait(r.Context(), delay) {
		return // client gave up during the latency
	}

	if inj, ok := st.cfg.Inject[user]; ok {
		if inj.Times == 0 || st.injUsed[user].Add(1) <= int64(inj.Times) {
			s.c.injected(inj.Type)
			s.writeAWSError(w, inj.status(), inj.Type, inj.message())
			return
		}
	}
	if inj := st.cfg.InjectAll; inj != nil {
		if inj.Times == 0 || st.injAllUsed.Add(1) <= int64(inj.Times) {
			s.c.injected(inj.Type)
			s.writeAWSError(w, inj.status(), inj.Type, inj.message())
			return
		}
	}
	if lim := st.cfg.DailyEmailLimit; lim > 0 && op == DefaultTarget && st.emailsSent.Add(1) > int64(lim) {
		s.c.injected("LimitExceededException")
		s.writeAWSError(w, http.StatusBadRequest, "LimitExceededException", DailyEmailLimitMessage)
		return
	}
	if st.faulty && u < st.cum[3] {
		switch {
		case u < st.cum[0]:
			s.c.fReset.Add(1)
			resetConn(w)
		case u < st.cum[1]:
			s.c.fTimeout.Add(1)
			s.hold(r.Context(), st.cfg.maxHold())
			resetConn(w)
		case u < st.cum[2]:
			s.c.f503.Add(1)
			w.Header()["Content-Length"] = zeroLen
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			s.c.f500.Add(1)
			s.writeAWSError(w, http.StatusInternalServerError, "InternalErrorException", "quotasim: injected internal error")
		}
		return
	}

	if st.proxy == nil {
		s.c.success(uc, cc, s.clock.Now())
		s.writeInstant(w, op)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	st.proxy.ServeHTTP(sw, r)
	switch {
	case sw.code == http.StatusOK:
		s.c.success(uc, cc, s.clock.Now())
	case sw.code != 0 && !sw.simError:
		s.c.upstreamNon200.Add(1)
	}
}

// forward handles a call that is not limited.
func (s *Sim) forward(st *state, w http.ResponseWriter, r *http.Request, op string) {
	if st.proxy != nil {
		st.proxy.ServeHTTP(w, r)
		return
	}
	if op == "" {
		s.writeAWSError(w, http.StatusBadRequest, "UnknownOperationException", "quotasim: missing X-Amz-Target")
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	s.writeInstant(w, op)
}

func (s *Sim) writeInstant(w http.ResponseWriter, op string) {
	h := w.Header()
	h["Content-Type"] = hdrContentType
	h["X-Amzn-Requestid"] = []string{s.nextRequestID()}
	if op == DefaultTarget {
		h["Content-Length"] = instantLen
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(instantBody)
		return
	}
	h["Content-Length"] = emptyLen
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(emptyBody)
}

type awsError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// writeAWSError writes an AWS JSON 1.1 error the way Cognito does.
func (s *Sim) writeAWSError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(awsError{typ, msg})
	h := w.Header()
	h["Content-Type"] = hdrContentType
	h["X-Amzn-Errortype"] = []string{typ}
	h["X-Amzn-Requestid"] = []string{s.nextRequestID()}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	if sw, ok := w.(*statusWriter); ok {
		sw.simError = true
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Sim) nextRequestID() string {
	n := s.reqID.Add(1)
	var b [48]byte
	out := append(b[:0], s.idPrefix...)
	const hex = "0123456789abcdef"
	for i := 44; i >= 0; i -= 4 { // 12 hex digits
		out = append(out, hex[(n>>uint(i))&0xf])
	}
	return string(out)
}

// jittered returns fixed ± jitter for a uniform draw u in [0,1), clamped at 0.
func jittered(fixed, jitter time.Duration, u float64) time.Duration {
	d := fixed
	if jitter > 0 {
		d += time.Duration((2*u - 1) * float64(jitter))
	}
	return max(d, 0)
}

// wait sleeps d; false when the request context ended first.
func (s *Sim) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closed:
		return true
	}
}

// hold blocks until the client gives up, max passes or the Sim is closed.
func (s *Sim) hold(ctx context.Context, max time.Duration) {
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-s.closed:
	}
}

// resetConn closes the client connection without an answer, with a TCP RST
// where possible.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // e.g. HTTP/2: abort the stream
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// usernameOf extracts the top-level "Username" string of a JSON body.
func usernameOf(body []byte) string {
	var v struct {
		Username string `json:"Username"`
	}
	if len(body) == 0 {
		return ""
	}
	_ = json.Unmarshal(body, &v)
	return v.Username
}

// statusWriter records the status the proxy wrote.
type statusWriter struct {
	http.ResponseWriter
	code     int
	simError bool // the answer came from the sim (upstream unreachable), not the upstream
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ---- control endpoints ----

func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case controlPrefix + "stats":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		users := r.URL.Query().Get("users")
		st := s.c.snapshot(users != "0" && users != "false")
		st.PerOp = s.ops.snapshot()
		writeJSON(w, http.StatusOK, st)
	case controlPrefix + "reset":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case controlPrefix + "config":
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, s.Config())
		case http.MethodPut:
			b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			cfg := s.Config()
			if err := json.Unmarshal(b, &cfg); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "decode config: " + err.Error()})
				return
			}
			if err := s.SetConfig(cfg); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, s.Config())
		default:
			methodNotAllowed(w, "GET, PUT")
		}
	default:
		http.NotFound(w, r)
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":`+strconv.Quote(err.Error())+`}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeThrottle answers a request with Cognito's TooManyRequestsException: the one
// throttle answer, whichever bucket (the operation's quota or its category's) refused it.
func (s *Sim) writeThrottle(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = hdrContentType
	h["X-Amzn-Errortype"] = throttleType
	h["X-Amzn-Requestid"] = []string{s.nextRequestID()}
	h["Content-Length"] = throttleLen
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(throttleBody)
}
