// Command demoenv starts a local environment for cognito-resend: cognito-local
// (and, with --sqs, fauxqs; with --dynamo, dynalite; with --quotasim, the quota
// simulator in front of cognito-local) on 127.0.0.1, a user pool with an app
// client that has a secret, N signed-up users of which K are confirmed, and the
// files needed to point cognito-resend at it.
//
//	go run ./testenv/cmd/demoenv --csv users.csv --secret-file secret --env-file demo.env [--sqs]
//	go run ./testenv/cmd/demoenv --sandbox      # make sandbox: everything, and how to use it
//
// It prints "ready" to stdout once everything is set up (--sandbox prints the
// export lines and example commands first), then blocks until SIGINT, SIGTERM or
// SIGHUP, or until stdin reaches EOF (use --wait-stdin=false when stdin is
// /dev/null, e.g. when started in the background from a script; --sandbox
// does not read stdin unless --wait-stdin is given), and stops everything it
// started. Progress goes to stderr. The client secret is only ever written to
// --secret-file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

const (
	queueName   = "demo-queue"
	maxReceive  = 3
	ledgerTable = "cognito-resend-ledger"
)

type options struct {
	users        int
	confirm      int
	specialUsers bool
	invitees     int
	secretFile   string
	csvFile      string
	envFile      string
	withSQS      bool
	withDynamo   bool
	withSim      bool
	simPreset    string
	waitStdin    bool
	sandbox      bool
	dir          string
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "demoenv:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "demoenv:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("demoenv", flag.ContinueOnError)
	fs.IntVar(&o.users, "users", 50, "number of users to sign up (demo-user-001 ...)")
	fs.IntVar(&o.confirm, "confirm", 10, "how many of the users to confirm (the first K)")
	fs.BoolVar(&o.specialUsers, "special-users", false, "also create "+adminCreatedUser+" (FORCE_CHANGE_PASSWORD) and "+disabledUser+" (unconfirmed, disabled)")
	fs.IntVar(&o.invitees, "invitees", 0, "also create this many admin-created users, never invited ("+inviteeStem+"001 ...: FORCE_CHANGE_PASSWORD, MessageAction=SUPPRESS), not in the CSV: what a pool campaign with --invitations sends their invitation to")
	fs.StringVar(&o.secretFile, "secret-file", "", "write the app client secret here (mode 0600)")
	fs.StringVar(&o.csvFile, "csv", "", "write a CSV of usernames (with edge cases) here")
	fs.StringVar(&o.envFile, "env-file", "", "write KEY=VALUE lines (endpoints, ids, dummy credentials) here; load with: set -a; . FILE; set +a")
	fs.BoolVar(&o.withSQS, "sqs", false, "also start fauxqs and create "+queueName+" with its DLQ "+queueName+"-dlq")
	fs.BoolVar(&o.withDynamo, "dynamo", false, "also start dynalite (DynamoDB, in memory; no table is created)")
	fs.BoolVar(&o.withSim, "quotasim", false, "put the quota simulator in front of cognito-local; the Cognito endpoint handed out is the simulator's")
	fs.StringVar(&o.simPreset, "sim-preset", "cognito", "quota simulator preset: "+fmt.Sprint(quotasim.PresetNames))
	fs.BoolVar(&o.waitStdin, "wait-stdin", true, "also stop when stdin reaches EOF")
	fs.BoolVar(&o.sandbox, "sandbox", false, "make sandbox: --sqs --dynamo --quotasim --special-users, files in --dir, print export lines and example commands, don't read stdin")
	fs.StringVar(&o.dir, "dir", "", "with --sandbox: directory for the secret, CSV and env file (default: a new temporary directory)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.sandbox {
		o.withSQS, o.withDynamo, o.withSim, o.specialUsers = true, true, true, true
		if !set["wait-stdin"] {
			o.waitStdin = false // stdin is the terminal: don't swallow what is typed
		}
	} else if o.dir != "" {
		return o, errors.New("--dir needs --sandbox")
	}
	if o.users < 1 || o.users > 999 {
		return o, fmt.Errorf("--users must be between 1 and 999, got %d", o.users)
	}
	if o.invitees < 0 || o.invitees > 999 {
		return o, fmt.Errorf("--invitees must be between 0 and 999, got %d", o.invitees)
	}
	if o.confirm < 0 || o.confirm > o.users {
		return o, fmt.Errorf("--confirm must be between 0 and --users (%d), got %d", o.users, o.confirm)
	}
	if _, err := quotasim.Preset(o.simPreset); err != nil {
		return o, fmt.Errorf("--sim-preset: %w", err)
	}
	return o, nil
}

// environment is what run started and created.
type environment struct {
	cognito, sqs, dynamo *emu.Server
	sim                  *quotasim.Server
	simCfg               quotasim.Config
	pool                 *emu.Pool
	users                users
	queueURL, dlqURL     string
}

// cognitoEndpoint is the Cognito endpoint handed to cognito-resend.
func (e *environment) cognitoEndpoint() string {
	if e.sim != nil {
		return e.sim.URL
	}
	return e.cognito.Endpoint
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	defer logf("stopped") // after every server's deferred Close

	if o.sandbox {
		if err := sandboxFiles(&o); err != nil {
			return err
		}
	}

	var e environment
	var err error
	logf("starting cognito-local")
	if e.cognito, err = emu.StartCognito(ctx); err != nil {
		return err
	}
	defer closeServer("cognito-local", e.cognito)
	logf("cognito-local on %s (log: %s)", e.cognito.Endpoint, e.cognito.LogFile)

	if o.withSQS {
		logf("starting fauxqs")
		if e.sqs, err = emu.StartSQS(ctx); err != nil {
			return err
		}
		defer closeServer("fauxqs", e.sqs)
		logf("fauxqs on %s (log: %s)", e.sqs.Endpoint, e.sqs.LogFile)
	}
	if o.withDynamo {
		logf("starting dynalite")
		if e.dynamo, err = emu.StartDynamo(ctx); err != nil {
			return err
		}
		defer closeServer("dynalite", e.dynamo)
		logf("dynalite on %s (log: %s)", e.dynamo.Endpoint, e.dynamo.LogFile)
	}
	if o.withSim {
		e.simCfg, _ = quotasim.Preset(o.simPreset) // checked in parseFlags
		e.simCfg.Upstream = e.cognito.Endpoint
		if e.sim, err = quotasim.Start(context.WithoutCancel(ctx), e.simCfg); err != nil { // closed by the defer, after use
			return fmt.Errorf("quota simulator: %w", err)
		}
		defer func() {
			if err := e.sim.Close(); err != nil {
				logf("stop quota simulator: %v", err)
			}
		}()
		logf("quota simulator (preset %s) on %s in front of cognito-local", o.simPreset, e.sim.URL)
	}

	if e.pool, err = emu.NewPool(ctx, e.cognito.Endpoint, emu.PoolOptions{Name: "demo-pool", WithSecret: true}); err != nil {
		return err
	}
	logf("pool %s, client %s", e.pool.ID, e.pool.ClientID)
	if e.users, err = createUsers(ctx, e.pool, o); err != nil {
		return err
	}
	logf("signed up %d users, confirmed %d", o.users, o.confirm)

	if o.withSQS {
		e.queueURL, e.dlqURL, err = emu.CreateQueueWithDLQ(ctx, emu.NewSQSClient(e.sqs.Endpoint), queueName, false, maxReceive)
		if err != nil {
			return err
		}
		logf("queue %s (DLQ %s after %d receives)", e.queueURL, e.dlqURL, maxReceive)
	}

	if err := writeFiles(o, &e); err != nil {
		return err
	}
	if o.sandbox {
		printSandbox(os.Stdout, o, &e)
	}
	fmt.Println("ready")

	stdinDone := make(chan struct{})
	if o.waitStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			close(stdinDone)
		}()
	}
	select {
	case <-ctx.Done():
		logf("signal received, stopping")
	case <-stdinDone:
		logf("stdin closed, stopping")
	}
	return nil
}

// sandboxFiles puts the secret, CSV and env file in --dir (a new temporary
// directory by default) unless given.
func sandboxFiles(o *options) error {
	if o.dir == "" {
		d, err := os.MkdirTemp("", "cognito-resend-sandbox-")
		if err != nil {
			return err
		}
		o.dir = d
	} else if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	o.dir = abs
	for _, f := range []struct {
		p    *string
		name string
	}{{&o.secretFile, "client-secret"}, {&o.csvFile, "users.csv"}, {&o.envFile, "sandbox.env"}} {
		if *f.p == "" {
			*f.p = filepath.Join(o.dir, f.name)
		}
	}
	return nil
}

func writeFiles(o options, e *environment) error {
	if o.secretFile != "" {
		if err := writeFile(o.secretFile, []byte(e.pool.ClientSecret+"\n"), 0o600); err != nil {
			return err
		}
		logf("wrote client secret to %s", o.secretFile)
	}
	if o.csvFile != "" {
		if err := writeCSV(o.csvFile, e.users); err != nil {
			return err
		}
		logf("wrote %s", o.csvFile)
	}
	if o.envFile != "" {
		if err := writeFile(o.envFile, []byte(envFile(envVars(o, e))), 0o644); err != nil {
			return err
		}
		logf("wrote %s", o.envFile)
	}
	return nil
}

// writeFile writes atomically (temp file + rename) with the given mode.
func writeFile(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func closeServer(name string, s *emu.Server) {
	if err := s.Close(); err != nil {
		logf("stop %s: %v", name, err)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "demoenv: "+format+"\n", args...)
}
