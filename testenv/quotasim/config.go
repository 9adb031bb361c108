// Package quotasim is a test instrument that imitates Amazon Cognito's request
// quota and fault behaviour for the ResendConfirmationCode operation (or the
// operations Config.Targets names, e.g. AdminGetUser).
//
// It runs either as a reverse proxy in front of a Cognito emulator
// (cognito-local) or, with no upstream, answers by itself ("instant" mode) so
// that a client's own overhead can be measured. It throttles with a token
// bucket exactly the way Cognito does (HTTP 400 TooManyRequestsException),
// injects faults (5xx, bare 503, timeouts, connection resets, typed AWS
// errors per user or for everyone) and counts what it saw: in total, per username,
// per second, and per client — each process sharing the bucket, named by the SDK's
// app id in its User-Agent (AWS_SDK_UA_APP_ID), see HeaderClient. StartLive runs a
// live-traffic client (the account's own application: Poisson arrivals) beside them.
// Every call is also counted per operation (Stats.PerOp; AdminGetUser and the other
// Admin* calls per user), and the reads the tool makes of a pool have their categories'
// buckets apart from the main one (categories.go: UserList 30/s, UserRead 120/s).
//
// Control endpoints live under /__sim/ on the same listener:
//
//	GET  /__sim/stats   counters as JSON (Stats, with per_client); ?users=0 omits per_user
//	POST /__sim/reset   zero the counters, refill the bucket, re-arm injections
//	GET  /__sim/config  current Config as JSON
//	PUT  /__sim/config  merge a JSON Config onto the current one (fields present replace)
//	GET  /health        200 "ok"
package quotasim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"
)

// DefaultMaxHold is how long a "timeout" fault holds a request when the
// client does not give up first.
const DefaultMaxHold = 30 * time.Second

// DefaultTarget is the operation that is limited, faulted and counted unless
// Config.Targets or Config.LimitAllTargets says otherwise.
const DefaultTarget = "ResendConfirmationCode"

// Clock tells the time. Tests inject a fake one to drive the token bucket.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// InjectedError describes a typed AWS error answered in place of the real call.
type InjectedError struct {
	// Type is the AWS error code, e.g. "LimitExceededException".
	Type string `json:"type"`
	// Message is the error message; defaults to Type.
	Message string `json:"message,omitempty"`
	// Status is the HTTP status; 0 means 400.
	Status int `json:"status,omitempty"`
	// Times limits the injection to the first N admitted calls (per username
	// for Config.Inject, overall for Config.InjectAll); 0 means always.
	Times int `json:"times,omitempty"`
}

func (e InjectedError) status() int {
	if e.Status == 0 {
		return 400
	}
	return e.Status
}

func (e InjectedError) message() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Message
}

// Config configures a Sim. The zero value is an instant-mode simulator with
// no limit and no faults.
//
// Order of processing for a limited call: count the call → token bucket
// (throttle) → latency → per-user injection → all-calls injection → random
// fault (reset, timeout, 503, 5xx; one uniform draw) → upstream / instant answer.
type Config struct {
	// Upstream is the base URL of the Cognito emulator; empty selects instant mode.
	Upstream string
	// Rate is the token bucket's refill rate Q in requests per second, shared
	// by all clients; 0 means unlimited.
	Rate float64
	// Burst is the bucket size B; when Rate > 0 and Burst <= 0 it defaults to
	// max(1, ceil(Rate)).
	Burst int
	// LatencyFixed is added to every admitted limited call.
	LatencyFixed time.Duration
	// LatencyJitter adds a uniform ±jitter on top of LatencyFixed (clamped at 0).
	LatencyJitter time.Duration
	// P5xx is the probability of HTTP 500 InternalErrorException.
	P5xx float64
	// P503 is the probability of a bare HTTP 503 with no body.
	P503 float64
	// PTimeout is the probability of holding the request without an answer
	// until the client gives up or MaxHold passes (then the connection is reset).
	PTimeout float64
	// PReset is the probability of closing the connection without an answer.
	PReset float64
	// MaxHold bounds a timeout fault; 0 means DefaultMaxHold.
	MaxHold time.Duration
	// Inject maps username → error answered for that user.
	Inject map[string]InjectedError
	// InjectAll, when set, is answered to every admitted call (after per-user injection).
	InjectAll *InjectedError
	// DailyEmailLimit, when > 0, is the account's daily email cap (Cognito's default
	// email sends 50 a day): once that many ResendConfirmationCode calls have succeeded,
	// every later one is answered LimitExceededException "Exceeded daily email limit for
	// the operation or the account." (re-armed by /__sim/reset or a new configuration).
	DailyEmailLimit int
	// Seed seeds the fault/jitter RNG; 0 picks a time-based seed.
	Seed int64
	// LimitAllTargets applies limiting, faults and counting to every
	// X-Amz-Target, not only ResendConfirmationCode.
	LimitAllTargets bool
	// Targets, when not empty, are the operations (the X-Amz-Target after its last dot,
	// e.g. "AdminGetUser") limited, faulted and counted instead of DefaultTarget; the
	// others pass through. LimitAllTargets overrides it.
	Targets []string
	// Clock drives the token bucket and the timestamps; nil means RealClock.
	// Not part of the JSON form.
	Clock Clock
}

// Validate reports a configuration error.
func (c Config) Validate() error {
	var errs []error
	if c.Upstream != "" {
		u, err := url.Parse(c.Upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("upstream %q: want http(s)://host[:port]", c.Upstream))
		}
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		errs = append(errs, fmt.Errorf("rate %v: must be >= 0", c.Rate))
	}
	if c.DailyEmailLimit < 0 {
		errs = append(errs, fmt.Errorf("daily email limit %d: must be >= 0 (0: none)", c.DailyEmailLimit))
	}
	if c.LatencyFixed < 0 || c.LatencyJitter < 0 || c.MaxHold < 0 {
		errs = append(errs, errors.New("latency, jitter and max hold must be >= 0"))
	}
	sum := 0.0
	for _, p := range []struct {
		name string
		v    float64
	}{{"p5xx", c.P5xx}, {"p503", c.P503}, {"ptimeout", c.PTimeout}, {"pconnreset", c.PReset}} {
		if p.v < 0 || p.v > 1 || math.IsNaN(p.v) {
			errs = append(errs, fmt.Errorf("%s %v: must be in [0,1]", p.name, p.v))
		}
		sum += p.v
	}
	if sum > 1+1e-9 {
		errs = append(errs, fmt.Errorf("fault probabilities sum to %v > 1", sum))
	}
	users := make([]string, 0, len(c.Inject))
	for u := range c.Inject {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		if err := c.Inject[u].validate(); err != nil {
			errs = append(errs, fmt.Errorf("inject %q: %w", u, err))
		}
	}
	if c.InjectAll != nil {
		if err := c.InjectAll.validate(); err != nil {
			errs = append(errs, fmt.Errorf("inject-all: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (e InjectedError) validate() error {
	if e.Type == "" {
		return errors.New("empty error type")
	}
	if e.Status != 0 && (e.Status < 400 || e.Status > 599) {
		return fmt.Errorf("status %d: want 4xx or 5xx", e.Status)
	}
	if e.Times < 0 {
		return fmt.Errorf("times %d: must be >= 0", e.Times)
	}
	return nil
}

func (c Config) effectiveBurst() int {
	if c.Rate <= 0 {
		return 0
	}
	if c.Burst > 0 {
		return c.Burst
	}
	return max(1, int(math.Ceil(c.Rate)))
}

func (c Config) maxHold() time.Duration {
	if c.MaxHold <= 0 {
		return DefaultMaxHold
	}
	return c.MaxHold
}

// clone copies the maps so a stored Config is not shared with the caller.
func (c Config) clone() Config {
	if c.Inject != nil {
		m := make(map[string]InjectedError, len(c.Inject))
		for k, v := range c.Inject {
			m[k] = v
		}
		c.Inject = m
	}
	if c.InjectAll != nil {
		e := *c.InjectAll
		c.InjectAll = &e
	}
	c.Targets = append([]string(nil), c.Targets...)
	if len(c.Targets) == 0 {
		c.Targets = nil
	}
	return c
}

// configJSON is the wire form. Durations are Go duration strings ("250ms");
// plain numbers are accepted as nanoseconds.
type configJSON struct {
	Upstream        *string                   `json:"upstream,omitempty"`
	Rate            *float64                  `json:"rate,omitempty"`
	Burst           *int                      `json:"burst,omitempty"`
	LatencyFixed    *jsonDuration             `json:"latency_fixed,omitempty"`
	LatencyJitter   *jsonDuration             `json:"latency_jitter,omitempty"`
	P5xx            *float64                  `json:"p5xx,omitempty"`
	P503            *float64                  `json:"p503,omitempty"`
	PTimeout        *float64                  `json:"ptimeout,omitempty"`
	PReset          *float64                  `json:"pconnreset,omitempty"`
	MaxHold         *jsonDuration             `json:"max_hold,omitempty"`
	Inject          *map[string]InjectedError `json:"inject,omitempty"`
	InjectAll       *InjectedError            `json:"inject_all,omitempty"`
	Seed            *int64                    `json:"seed,omitempty"`
	LimitAllTargets *bool                     `json:"limit_all_targets,omitempty"`
	Targets         *[]string                 `json:"targets,omitempty"`
	DailyEmailLimit *int                      `json:"daily_email_limit,omitempty"`
}

// MarshalJSON writes every field (so the result fully describes the config).
// inject_all is null when unset.
func (c Config) MarshalJSON() ([]byte, error) {
	inj := c.Inject
	if inj == nil {
		inj = map[string]InjectedError{}
	}
	lf, lj, mh := jsonDuration(c.LatencyFixed), jsonDuration(c.LatencyJitter), jsonDuration(c.MaxHold)
	type full struct {
		Upstream        string                   `json:"upstream"`
		Rate            float64                  `json:"rate"`
		Burst           int                      `json:"burst"`
		LatencyFixed    jsonDuration             `json:"latency_fixed"`
		LatencyJitter   jsonDuration             `json:"latency_jitter"`
		P5xx            float64                  `json:"p5xx"`
		P503            float64                  `json:"p503"`
		PTimeout        float64                  `json:"ptimeout"`
		PReset          float64                  `json:"pconnreset"`
		MaxHold         jsonDuration             `json:"max_hold"`
		Inject          map[string]InjectedError `json:"inject"`
		InjectAll       *InjectedError           `json:"inject_all"`
		Seed            int64                    `json:"seed"`
		LimitAllTargets bool                     `json:"limit_all_targets"`
		Targets         []string                 `json:"targets"`
		DailyEmailLimit int                      `json:"daily_email_limit"`
	}
	targets := c.Targets
	if targets == nil {
		targets = []string{}
	}
	return json.Marshal(full{c.Upstream, c.Rate, c.Burst, lf, lj, c.P5xx, c.P503, c.PTimeout, c.PReset,
		mh, inj, c.InjectAll, c.Seed, c.LimitAllTargets, targets, c.DailyEmailLimit})
}

// UnmarshalJSON merges: only the fields present in the JSON change the
// receiver. "inject" replaces the whole map; "inject_all": null clears it.
// Unknown fields are an error.
func (c *Config) UnmarshalJSON(b []byte) error {
	var w configJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	setS(&c.Upstream, w.Upstream)
	setS(&c.Rate, w.Rate)
	setS(&c.Burst, w.Burst)
	setD(&c.LatencyFixed, w.LatencyFixed)
	setD(&c.LatencyJitter, w.LatencyJitter)
	setS(&c.P5xx, w.P5xx)
	setS(&c.P503, w.P503)
	setS(&c.PTimeout, w.PTimeout)
	setS(&c.PReset, w.PReset)
	setD(&c.MaxHold, w.MaxHold)
	if _, ok := raw["inject"]; ok {
		c.Inject = nil
		if w.Inject != nil {
			c.Inject = *w.Inject
		}
	}
	if _, ok := raw["inject_all"]; ok {
		c.InjectAll = w.InjectAll
	}
	setS(&c.Seed, w.Seed)
	setS(&c.LimitAllTargets, w.LimitAllTargets)
	setS(&c.DailyEmailLimit, w.DailyEmailLimit)
	if w.Targets != nil {
		c.Targets = nil
		if len(*w.Targets) > 0 {
			c.Targets = *w.Targets
		}
	}
	return nil
}

func setS[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func setD(dst *time.Duration, src *jsonDuration) {
	if src != nil {
		*dst = time.Duration(*src)
	}
}

type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = jsonDuration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration: want a string like \"250ms\" or integer nanoseconds, got %s", b)
	}
	*d = jsonDuration(n)
	return nil
}

// Preset returns a named starting configuration:
//
//	unlimited  no limit, no faults
//	cognito    Q=30 B=30 (the order of Cognito's default per-category quotas), 10±5 ms latency
//	strict     Q=5 B=1
//	flaky      Q=50 B=50, 20±10 ms, 2% 5xx, 2% 503, 0.5% timeout (MaxHold 10s), 0.5% reset
//	slow       no limit, 150±50 ms latency
func Preset(name string) (Config, error) {
	switch name {
	case "", "unlimited", "none":
		return Config{}, nil
	case "cognito":
		return Config{Rate: 30, Burst: 30, LatencyFixed: 10 * time.Millisecond, LatencyJitter: 5 * time.Millisecond}, nil
	case "strict":
		return Config{Rate: 5, Burst: 1}, nil
	case "flaky":
		return Config{Rate: 50, Burst: 50, LatencyFixed: 20 * time.Millisecond, LatencyJitter: 10 * time.Millisecond,
			P5xx: 0.02, P503: 0.02, PTimeout: 0.005, PReset: 0.005, MaxHold: 10 * time.Second}, nil
	case "slow":
		return Config{LatencyFixed: 150 * time.Millisecond, LatencyJitter: 50 * time.Millisecond}, nil
	}
	return Config{}, fmt.Errorf("unknown preset %q (want one of %s)", name, strings.Join(PresetNames, ", "))
}

// PresetNames lists the names Preset accepts.
var PresetNames = []string{"unlimited", "cognito", "strict", "flaky", "slow"}

// ParseInjectedError parses "Type:Message[:times]" (Message may be empty;
// "Type" alone is accepted). A trailing ":N" that is a non-negative integer is
// taken as Times, so a message that itself ends in ":<digits>" needs an
// explicit ":0" suffix.
func ParseInjectedError(s string) (InjectedError, error) {
	typ, rest, _ := strings.Cut(s, ":")
	e := InjectedError{Type: strings.TrimSpace(typ), Message: rest}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		var n int
		if _, err := fmt.Sscanf(rest[i+1:], "%d", &n); err == nil && fmt.Sprint(n) == rest[i+1:] && n >= 0 {
			e.Message, e.Times = rest[:i], n
		}
	}
	return e, e.validate()
}

// ParseUserInjection parses "user=Type:Message[:times]".
func ParseUserInjection(s string) (string, InjectedError, error) {
	user, spec, ok := strings.Cut(s, "=")
	if !ok || user == "" {
		return "", InjectedError{}, fmt.Errorf("inject %q: want user=Type:Message[:times]", s)
	}
	e, err := ParseInjectedError(spec)
	if err != nil {
		return "", InjectedError{}, fmt.Errorf("inject %q: %w", s, err)
	}
	return user, e, nil
}
