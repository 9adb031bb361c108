package quotasim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// The live-traffic client stands for the account's own application: its sign-ups and
// "resend my code" clicks share Cognito's quota with any campaign. Real users arrive
// independently of each other, so the calls are a Poisson process — exponential gaps,
// bunched at times — not a smooth rate; each call is made once (a throttled call is a
// user's step failing) and arrivals do not wait for earlier calls (open loop).

// LiveClient is the default client name of the live-traffic client.
const LiveClient = "live"

// LiveDefaultSeed seeds the arrivals when LiveConfig.Seed is 0, so that two runs of a
// benchmark offer the same arrival pattern.
const LiveDefaultSeed = 1

// TimerClock is a Clock that can also wait; the live-traffic client needs one.
type TimerClock interface {
	Clock
	After(d time.Duration) <-chan time.Time
}

func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Arrivals draws the gaps of a Poisson process: exponential with mean 1/rate, from a
// seeded generator (the same seed gives the same gaps).
type Arrivals struct {
	rate float64
	rng  *rand.Rand
}

// NewArrivals returns the gaps of a Poisson process of rate arrivals per second.
func NewArrivals(rate float64, seed int64) *Arrivals {
	return &Arrivals{rate: rate, rng: rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x5851f42d4c957f2d))}
}

// Next is the time from one arrival to the next.
func (a *Arrivals) Next() time.Duration {
	return time.Duration(a.rng.ExpFloat64() / a.rate * float64(time.Second))
}

// LiveConfig configures a live-traffic client. Both bounds apply: it stops at Duration
// or after MaxCalls arrivals, whichever comes first.
type LiveConfig struct {
	// URL is the simulator's base URL (loopback).
	URL string
	// Rate is the mean arrival rate, calls per second.
	Rate float64
	// Seed seeds the arrival times; 0 means LiveDefaultSeed.
	Seed int64
	// Client is the app id sent in the User-Agent (default LiveClient), i.e. the
	// client's name in Stats.PerClient.
	Client string
	// Duration bounds the run (required).
	Duration time.Duration
	// MaxCalls bounds the arrivals; 0 means 2 × Rate × Duration + 100.
	MaxCalls int64
	// MaxInFlight bounds the calls in flight; an arrival beyond it is dropped and
	// counted (waiting would smooth the arrivals). 0 means 256.
	MaxInFlight int
	// CallTimeout bounds one call (default 10 s).
	CallTimeout time.Duration
	// UserPrefix prefixes the usernames, which are unique per call (default "live-").
	UserPrefix string
	// ClientID is the Cognito app client id in the calls (default "live-app").
	ClientID string
	// Clock schedules the arrivals; nil means RealClock.
	Clock TimerClock
}

func (c *LiveConfig) defaults() error {
	if c.Rate <= 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		return fmt.Errorf("live: rate %v: must be > 0", c.Rate)
	}
	if c.Duration <= 0 {
		return errors.New("live: duration must be > 0 (the run is bounded)")
	}
	if c.MaxCalls < 0 || c.MaxInFlight < 0 || c.CallTimeout < 0 {
		return errors.New("live: max calls, max in flight and call timeout must be >= 0")
	}
	if c.Seed == 0 {
		c.Seed = LiveDefaultSeed
	}
	if c.Client == "" {
		c.Client = LiveClient
	}
	if c.MaxCalls == 0 {
		c.MaxCalls = int64(math.Ceil(2*c.Rate*c.Duration.Seconds())) + 100
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 256
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 10 * time.Second
	}
	if c.UserPrefix == "" {
		c.UserPrefix = "live-"
	}
	if c.ClientID == "" {
		c.ClientID = "live-app"
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	return nil
}

// LiveStats is what the live-traffic client saw, by its own count.
type LiveStats struct {
	// Arrivals counts scheduled calls (made or dropped).
	Arrivals int64 `json:"arrivals"`
	// Calls counts calls made.
	Calls     int64 `json:"calls"`
	Successes int64 `json:"successes"`
	Throttled int64 `json:"throttled"`
	// Errors counts any other answer, and calls that got none.
	Errors int64 `json:"errors"`
	// Dropped counts arrivals while MaxInFlight calls were in flight.
	Dropped int64 `json:"dropped"`
}

// ThrottledShare is Throttled ÷ Calls (0 without calls).
func (s LiveStats) ThrottledShare() float64 {
	if s.Calls == 0 {
		return 0
	}
	return float64(s.Throttled) / float64(s.Calls)
}

type liveOutcome int

const (
	liveSuccess liveOutcome = iota
	liveThrottled
	liveError
)

// Live is a running live-traffic client.
type Live struct {
	cfg    LiveConfig
	do     func(ctx context.Context, seq int64) liveOutcome
	cancel context.CancelFunc
	done   chan struct{} // arrivals ended
	calls  sync.WaitGroup

	arrivals, made, succ, thr, errs, dropped atomic.Int64
	inFlight                                 atomic.Int64
}

// StartLive starts a live-traffic client calling ResendConfirmationCode on cfg.URL
// through the SDK (anonymous, no retries, app id cfg.Client). It runs until a bound is
// reached, ctx ends or Stop.
func StartLive(ctx context.Context, cfg LiveConfig) (*Live, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := checkLoopbackURL(cfg.URL); err != nil {
		return nil, err
	}
	client := cip.New(cip.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(cfg.URL),
		AppID:        cfg.Client,
		Retryer:      aws.NopRetryer{},
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = cfg.MaxInFlight
		}),
	})
	do := func(ctx context.Context, seq int64) liveOutcome {
		ctx, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
		defer cancel()
		_, err := client.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{
			ClientId: aws.String(cfg.ClientID),
			Username: aws.String(cfg.UserPrefix + strconv.FormatInt(seq, 10)),
		})
		var tmr *types.TooManyRequestsException
		switch {
		case err == nil:
			return liveSuccess
		case errors.As(err, &tmr):
			return liveThrottled
		}
		return liveError
	}
	return startLive(ctx, cfg, do), nil
}

// startLive runs the arrival loop with a given call; cfg has its defaults.
func startLive(ctx context.Context, cfg LiveConfig, do func(context.Context, int64) liveOutcome) *Live {
	ctx, cancel := context.WithCancel(ctx)
	l := &Live{cfg: cfg, do: do, cancel: cancel, done: make(chan struct{})}
	go l.loop(ctx)
	return l
}

func (l *Live) loop(ctx context.Context) {
	defer close(l.done)
	arr := NewArrivals(l.cfg.Rate, l.cfg.Seed)
	start := l.cfg.Clock.Now()
	var at time.Duration // offset of the next arrival from start
	for seq := int64(1); seq <= l.cfg.MaxCalls; seq++ {
		at += arr.Next()
		if at > l.cfg.Duration {
			return
		}
		if wait := start.Add(at).Sub(l.cfg.Clock.Now()); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-l.cfg.Clock.After(wait):
			}
		} else if ctx.Err() != nil {
			return
		}
		l.arrivals.Add(1)
		if l.inFlight.Load() >= int64(l.cfg.MaxInFlight) {
			l.dropped.Add(1)
			continue
		}
		l.inFlight.Add(1)
		l.made.Add(1)
		l.calls.Add(1)
		go func(seq int64) {
			defer l.calls.Done()
			defer l.inFlight.Add(-1)
			// A call already made is let finish when the run stops, as a user's would.
			switch l.do(context.WithoutCancel(ctx), seq) {
			case liveSuccess:
				l.succ.Add(1)
			case liveThrottled:
				l.thr.Add(1)
			default:
				l.errs.Add(1)
			}
		}(seq)
	}
}

// Stats is a snapshot of the client's own counts.
func (l *Live) Stats() LiveStats {
	return LiveStats{
		Arrivals: l.arrivals.Load(), Calls: l.made.Load(), Successes: l.succ.Load(),
		Throttled: l.thr.Load(), Errors: l.errs.Load(), Dropped: l.dropped.Load(),
	}
}

// Done is closed when no more calls will start (a bound was reached, or it was stopped).
func (l *Live) Done() <-chan struct{} { return l.done }

// Stop ends the arrivals, waits for the calls in flight (each bounded by CallTimeout)
// and returns the final counts.
func (l *Live) Stop() LiveStats {
	l.cancel()
	<-l.done
	l.calls.Wait()
	return l.Stats()
}
