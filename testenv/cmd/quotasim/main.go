// Command quotasim runs the Cognito quota simulator (package
// testenv/quotasim) as a standalone server on a loopback address.
//
// It prints "listening http://127.0.0.1:PORT" as its first stdout line and
// runs until SIGINT or SIGTERM.
//
//	quotasim --upstream http://127.0.0.1:9229 --rate 30 --burst 30 \
//	    --inject alice=LimitExceededException:Attempt limit exceeded:2
//
// With --live-rate it also runs a live-traffic client against itself: Poisson
// arrivals at that mean rate, sharing the bucket, counted as client "live" in
// /__sim/stats (per_client), bounded by --live-duration and --live-max-calls.
//
//	quotasim --rate 20 --burst 20 --latency 100ms --jitter 20ms --live-rate 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "quotasim:", err)
		os.Exit(2)
	}
}

type injectFlags []string

func (f *injectFlags) String() string     { return strings.Join(*f, ",") }
func (f *injectFlags) Set(s string) error { *f = append(*f, s); return nil }

// settings is the parsed command line.
type settings struct {
	addr string
	cfg  quotasim.Config
	live *quotasim.LiveConfig // nil without --live-rate; URL set once listening
}

// parseArgs turns the command line into settings. The preset is applied first;
// flags given explicitly override it.
func parseArgs(args []string, stderr io.Writer) (settings, error) {
	fs := flag.NewFlagSet("quotasim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen     = fs.String("listen", "127.0.0.1:0", "listen address (loopback only)")
		upstream   = fs.String("upstream", "", "Cognito emulator base URL to proxy to; empty = instant mode")
		rate       = fs.Float64("rate", 0, "token bucket rate Q for ResendConfirmationCode, req/s (0 = unlimited)")
		burst      = fs.Int("burst", 0, "token bucket size B (default max(1, ceil(rate)))")
		latency    = fs.Duration("latency", 0, "fixed latency added to admitted calls")
		jitter     = fs.Duration("jitter", 0, "uniform ± jitter added to the latency")
		p5xx       = fs.Float64("p5xx", 0, "probability of HTTP 500 InternalErrorException")
		p503       = fs.Float64("p503", 0, "probability of a bare HTTP 503")
		ptimeout   = fs.Float64("ptimeout", 0, "probability of holding the request unanswered")
		pconnreset = fs.Float64("pconnreset", 0, "probability of resetting the connection without an answer")
		maxHold    = fs.Duration("max-hold", 0, "longest hold for a timeout fault (default 30s)")
		presetN    = fs.String("preset", "", "starting configuration: "+strings.Join(quotasim.PresetNames, ", "))
		injectAll  = fs.String("inject-all", "", "error for every call: Type:Message[:times]")
		seed       = fs.Int64("seed", 0, "RNG seed for faults and jitter (0 = time based)")
		limitAll   = fs.Bool("limit-all-targets", false, "limit, fault and count every X-Amz-Target, not only ResendConfirmationCode")
		liveRate   = fs.Float64("live-rate", 0, "run a live-traffic client at this mean rate, req/s, Poisson arrivals (0 = none)")
		liveSeed   = fs.Int64("live-seed", quotasim.LiveDefaultSeed, "seed of the live client's arrival times")
		liveClient = fs.String("live-client", quotasim.LiveClient, "the live client's name in per_client (its SDK app id)")
		liveDur    = fs.Duration("live-duration", 10*time.Minute, "the live client stops after this long")
		liveMax    = fs.Int64("live-max-calls", 0, "the live client stops after this many calls (default 2 × rate × duration + 100)")
		targets    = fs.String("targets", "", "comma-separated operations to limit, fault and count instead of ResendConfirmationCode (e.g. AdminGetUser,ResendConfirmationCode)")
		injects    injectFlags
	)
	fs.Var(&injects, "inject", "per-user error user=Type:Message[:times] (repeatable)")
	if err := fs.Parse(args); err != nil {
		return settings{}, err
	}
	if fs.NArg() > 0 {
		return settings{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg, err := quotasim.Preset(*presetN)
	if err != nil {
		return settings{}, err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "upstream":
			cfg.Upstream = *upstream
		case "rate":
			cfg.Rate = *rate
		case "burst":
			cfg.Burst = *burst
		case "latency":
			cfg.LatencyFixed = *latency
		case "jitter":
			cfg.LatencyJitter = *jitter
		case "p5xx":
			cfg.P5xx = *p5xx
		case "p503":
			cfg.P503 = *p503
		case "ptimeout":
			cfg.PTimeout = *ptimeout
		case "pconnreset":
			cfg.PReset = *pconnreset
		case "max-hold":
			cfg.MaxHold = *maxHold
		case "seed":
			cfg.Seed = *seed
		case "limit-all-targets":
			cfg.LimitAllTargets = *limitAll
		case "targets":
			cfg.Targets = nil
			for _, t := range strings.Split(*targets, ",") {
				if t = strings.TrimSpace(t); t != "" {
					cfg.Targets = append(cfg.Targets, t)
				}
			}
		}
	})
	for _, s := range injects {
		user, e, err := quotasim.ParseUserInjection(s)
		if err != nil {
			return settings{}, err
		}
		if cfg.Inject == nil {
			cfg.Inject = map[string]quotasim.InjectedError{}
		}
		cfg.Inject[user] = e
	}
	if *injectAll != "" {
		e, err := quotasim.ParseInjectedError(*injectAll)
		if err != nil {
			return settings{}, fmt.Errorf("inject-all: %w", err)
		}
		cfg.InjectAll = &e
	}
	if err := quotasim.CheckLoopback(*listen); err != nil {
		return settings{}, err
	}
	st := settings{addr: *listen, cfg: cfg}
	if *liveRate != 0 {
		if *liveRate < 0 || *liveDur <= 0 || *liveMax < 0 {
			return settings{}, errors.New("--live-rate, --live-duration and --live-max-calls must be positive")
		}
		st.live = &quotasim.LiveConfig{Rate: *liveRate, Seed: *liveSeed, Client: *liveClient, Duration: *liveDur, MaxCalls: *liveMax}
	}
	return st, cfg.Validate()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	set, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	cfg := set.cfg
	srv, err := quotasim.StartAddr(ctx, set.addr, cfg)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "listening %s\n", srv.URL); err != nil {
		_ = srv.Close()
		return err
	}
	mode := "instant"
	if cfg.Upstream != "" {
		mode = "proxy to " + cfg.Upstream
	}
	fmt.Fprintf(stderr, "quotasim: %s, rate %g/s burst %d, stats at %s/__sim/stats\n", mode, cfg.Rate, cfg.Burst, srv.URL)
	var live *quotasim.Live
	if set.live != nil {
		set.live.URL = srv.URL
		if live, err = quotasim.StartLive(ctx, *set.live); err != nil {
			_ = srv.Close()
			return err
		}
		fmt.Fprintf(stderr, "quotasim: live client %q: %g calls/s (Poisson, seed %d) for %s\n",
			set.live.Client, set.live.Rate, set.live.Seed, set.live.Duration)
	}

	select {
	case <-ctx.Done():
	case <-srv.Done():
	}
	if live != nil {
		ls := live.Stop()
		fmt.Fprintf(stderr, "quotasim: live client: calls=%d successes=%d throttled=%d (%.2f %%) errors=%d dropped=%d\n",
			ls.Calls, ls.Successes, ls.Throttled, 100*ls.ThrottledShare(), ls.Errors, ls.Dropped)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	st := srv.Sim.Stats()
	fmt.Fprintf(stderr, "quotasim: stopped: calls=%d successes=%d throttled=%d faults=%d passthrough=%d\n",
		st.Calls, st.Successes, st.Throttled, st.Faults.Total(), st.Passthrough)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // forced close after the grace period
	}
	return err
}
