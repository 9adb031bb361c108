package quotasim

import (
	"bytes"
	"io"
	"net/http"
	"sort"
	"sync"
)

// The per-category request rate quotas of the operations the tool reads the pool with,
// and of the invitations it sends (Cognito's "Quotas" page, per account and region; the
// main bucket is the resend's):
// each category is a bucket of its own, shared by its operations, applied to a call that
// Config.Targets does not already limit. A throttled call gets the same
// TooManyRequestsException as the main bucket's.
var categoryQuotas = map[string]struct {
	rate float64
	ops  []string
}{
	"UserList": {30, []string{"ListUsers", "ListUsersInGroup"}}, // not adjustable
	"UserRead": {120, []string{"AdminGetUser", "GetUser"}},
	// --invitations' AdminCreateUser (MessageAction=RESEND), shared with the application's
	// sign-ups; adjustable, 50/s by default.
	"UserCreation": {50, []string{"AdminCreateUser", "SignUp", "ConfirmSignUp", "AdminConfirmSignUp"}},
}

// categoryOf maps an operation to its category's bucket (built by New).
type categoryBuckets map[string]*Bucket

func newCategoryBuckets(clock Clock) categoryBuckets {
	m := categoryBuckets{}
	for _, q := range categoryQuotas {
		b := NewBucket(clock, q.rate, int(q.rate))
		for _, op := range q.ops {
			m[op] = b
		}
	}
	return m
}

func (m categoryBuckets) refill() {
	for _, b := range m {
		b.Refill()
	}
}

// OpStats counts the calls of one operation, every one that reached the simulator
// (limited or passed through). PerUser counts them by the body's Username, for the
// operations that name one user (AdminGetUser: each user it reads is a billed monthly
// active user, so a test can assert there was none).
type OpStats struct {
	Calls     int64            `json:"calls"`
	Throttled int64            `json:"throttled"`
	PerUser   map[string]int64 `json:"per_user,omitempty"`
}

// opCounters counts calls per operation.
type opCounters struct {
	mu  sync.Mutex
	ops map[string]*OpStats
}

func (o *opCounters) add(op, user string, throttled bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ops == nil {
		o.ops = map[string]*OpStats{}
	}
	s := o.ops[op]
	if s == nil {
		s = &OpStats{}
		o.ops[op] = s
	}
	s.Calls++
	if throttled {
		s.Throttled++
	}
	if user != "" {
		if s.PerUser == nil {
			s.PerUser = map[string]int64{}
		}
		s.PerUser[user]++
	}
}

func (o *opCounters) snapshot() map[string]OpStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]OpStats, len(o.ops))
	for k, v := range o.ops {
		c := *v
		if v.PerUser != nil {
			c.PerUser = make(map[string]int64, len(v.PerUser))
			for u, n := range v.PerUser {
				c.PerUser[u] = n
			}
		}
		out[k] = c
	}
	return out
}

func (o *opCounters) reset() {
	o.mu.Lock()
	o.ops = nil
	o.mu.Unlock()
}

// Op returns the counters of operation op (zero when it was never called).
func (s Stats) Op(op string) OpStats { return s.PerOp[op] }

// OpUsers returns the usernames operation op was called for, sorted.
func (s Stats) OpUsers(op string) []string {
	out := make([]string, 0, len(s.PerOp[op].PerUser))
	for u := range s.PerOp[op].PerUser {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// namesOneUser reports whether op's body names the user it is about (Username).
func namesOneUser(op string) bool {
	return len(op) > 5 && op[:5] == "Admin"
}

// passUser reads the Username of an untargeted call that names one, and puts the body
// back for the proxy.
func passUser(r *http.Request, op string) string {
	if !namesOneUser(op) || r.Body == nil {
		return ""
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return ""
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	return usernameOf(body)
}

// serveCategory counts an untargeted call and applies its category's bucket: false
// when it was throttled (the answer is written).
func (s *Sim) serveCategory(w http.ResponseWriter, r *http.Request, op string) bool {
	if op == "" {
		return true
	}
	user := passUser(r, op)
	if b := s.cats[op]; b != nil && !b.Allow() {
		s.ops.add(op, user, true)
		s.writeThrottle(w)
		return false
	}
	s.ops.add(op, user, false)
	return true
}
