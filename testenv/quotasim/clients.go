package quotasim

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// Clients are the processes sharing the bucket, told apart so a benchmark can see each
// one's share: the SDK's application id in the User-Agent (`app/<id>`; aws-sdk-go-v2
// sets it from aws.Config.AppID, which config.LoadDefaultConfig reads from the
// environment variable AWS_SDK_UA_APP_ID), else the HeaderClient header, else
// DefaultClient.
const (
	// HeaderClient names the client for callers that cannot set an SDK app id.
	HeaderClient = "X-Quotasim-Client"
	// DefaultClient counts calls that name no client.
	DefaultClient = "default"
	// OverflowClient counts the calls of clients beyond MaxClients.
	OverflowClient = "other"
	// MaxClients bounds the per-client counters (a misbehaving caller naming every
	// call differently must not grow the simulator without bound).
	MaxClients = 4096
	// maxClientID bounds one client name.
	maxClientID = 64
)

// ClientStats counts one client's limited calls. Throttles are counted when the call
// arrives and successes when the answer leaves, as in Stats.PerSecond.
type ClientStats struct {
	// Calls counts limited calls received.
	Calls int64 `json:"calls"`
	// Admitted counts calls the bucket let through (they may still fault).
	Admitted int64 `json:"admitted"`
	// Successes counts HTTP 200 answers.
	Successes int64 `json:"successes"`
	// Throttled counts TooManyRequestsException answers from the bucket.
	Throttled int64 `json:"throttled"`
	// PerSecond is the client's dense per-second series, from its first recorded
	// second to its last, on the same clock as Stats.PerSecond.
	PerSecond []SecondStats `json:"per_second"`
}

// Between sums successes and throttles over the seconds in [from, to) (Unix seconds).
func (c ClientStats) Between(from, to int64) (successes, throttled int64) {
	for _, ps := range c.PerSecond {
		if ps.Unix >= from && ps.Unix < to {
			successes += ps.Successes
			throttled += ps.Throttled
		}
	}
	return successes, throttled
}

// clientOf names the client of a request.
func clientOf(h http.Header) string {
	if id := uaAppID(h.Get("User-Agent")); id != "" {
		return id
	}
	if id := sanitizeClientID(h.Get(HeaderClient)); id != "" {
		return id
	}
	return DefaultClient
}

// uaAppID returns the value of the first `app/<id>` token of a User-Agent.
func uaAppID(ua string) string {
	for ua != "" {
		var tok string
		tok, ua, _ = strings.Cut(ua, " ")
		if id, ok := strings.CutPrefix(tok, "app/"); ok {
			return sanitizeClientID(id)
		}
	}
	return ""
}

// sanitizeClientID keeps the characters the SDK keeps in a User-Agent token (letters,
// digits and !#$%&'*+-.^_`|~), maps the others to '-' and caps the length.
func sanitizeClientID(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxClientID {
		s = s[:maxClientID]
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', strings.ContainsRune("!#$%&'*+-.^_`|~", r):
			return r
		}
		return '-'
	}, s)
}

type clientCounters struct {
	calls, admitted, successes, throttled atomic.Int64
	hist                                  histogram
}

// clientTable maps client name → counters.
type clientTable struct {
	mu sync.RWMutex
	m  map[string]*clientCounters
}

func (t *clientTable) get(name string) *clientCounters {
	t.mu.RLock()
	c := t.m[name]
	t.mu.RUnlock()
	if c != nil {
		return c
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*clientCounters{}
	}
	if c = t.m[name]; c == nil {
		if len(t.m) >= MaxClients {
			name = OverflowClient
			if c = t.m[name]; c != nil {
				return c
			}
		}
		c = &clientCounters{}
		t.m[name] = c
	}
	return c
}

func (t *clientTable) reset() {
	t.mu.Lock()
	t.m = nil
	t.mu.Unlock()
}

func (t *clientTable) snapshot() map[string]ClientStats {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make(map[string]ClientStats, len(t.m))
	for name, c := range t.m {
		out[name] = ClientStats{
			Calls:     c.calls.Load(),
			Admitted:  c.admitted.Load(),
			Successes: c.successes.Load(),
			Throttled: c.throttled.Load(),
			PerSecond: c.hist.snapshot(),
		}
	}
	return out
}
