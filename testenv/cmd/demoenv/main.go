// Command demoenv starts a local demo environment for cognito-resend:
// cognito-local (and, with --sqs, fauxqs) on 127.0.0.1, a user pool with an
// app client that has a secret, N signed-up users of which K are confirmed,
// and the files needed to point cognito-resend at it.
//
//	go run ./testenv/cmd/demoenv --csv users.csv --secret-file secret --env-file demo.env [--sqs]
//
// It prints "ready" to stdout once everything is set up, then blocks until
// SIGINT/SIGTERM or until stdin reaches EOF (use --wait-stdin=false when stdin
// is /dev/null, e.g. when started in the background from a script), and stops
// the emulators. Progress goes to stderr. The client secret is only ever written
// to --secret-file.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
)

const (
	queueName    = "demo-queue"
	dlqName      = queueName + "-dlq" // as emu.CreateQueueWithDLQ names it
	maxReceive   = 3
	unknownUser  = "demo-user-unknown"
	spacedUser   = "demo user with space"
	usernameStem = "demo-user-"
)

type options struct {
	users      int
	confirm    int
	secretFile string
	csvFile    string
	envFile    string
	withSQS    bool
	waitStdin  bool
}

func main() {
	var o options
	fs := flag.NewFlagSet("demoenv", flag.ContinueOnError)
	fs.IntVar(&o.users, "users", 50, "number of users to sign up (demo-user-001 ...)")
	fs.IntVar(&o.confirm, "confirm", 10, "how many of the users to confirm (the first K)")
	fs.StringVar(&o.secretFile, "secret-file", "", "write the app client secret here (mode 0600)")
	fs.StringVar(&o.csvFile, "csv", "", "write a CSV of usernames (with edge cases) here")
	fs.StringVar(&o.envFile, "env-file", "", "write KEY=VALUE lines (endpoints, ids, dummy credentials) here")
	fs.BoolVar(&o.withSQS, "sqs", false, "also start fauxqs and create "+queueName+" with DLQ "+dlqName)
	fs.BoolVar(&o.waitStdin, "wait-stdin", true, "also stop when stdin reaches EOF")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "demoenv:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.users < 1 || o.users > 999 {
		return fmt.Errorf("--users must be between 1 and 999, got %d", o.users)
	}
	if o.confirm < 0 || o.confirm > o.users {
		return fmt.Errorf("--confirm must be between 0 and --users (%d), got %d", o.users, o.confirm)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logf("starting cognito-local")
	cognito, err := emu.StartCognito(ctx)
	if err != nil {
		return err
	}
	defer closeServer("cognito-local", cognito)
	logf("cognito-local on %s (log: %s)", cognito.Endpoint, cognito.LogFile)

	var sqsSrv *emu.Server
	if o.withSQS {
		logf("starting fauxqs")
		sqsSrv, err = emu.StartSQS(ctx)
		if err != nil {
			return err
		}
		defer closeServer("fauxqs", sqsSrv)
		logf("fauxqs on %s (log: %s)", sqsSrv.Endpoint, sqsSrv.LogFile)
	}

	pool, err := emu.NewPool(ctx, cognito.Endpoint, emu.PoolOptions{Name: "demo-pool", WithSecret: true})
	if err != nil {
		return err
	}
	logf("pool %s, client %s", pool.ID, pool.ClientID)

	usernames := make([]string, o.users)
	for i := range usernames {
		usernames[i] = fmt.Sprintf("%s%03d", usernameStem, i+1)
		if err := pool.SignUp(ctx, usernames[i], usernames[i]+"@example.com"); err != nil {
			return err
		}
	}
	for _, u := range usernames[:o.confirm] {
		if err := pool.Confirm(ctx, u); err != nil {
			return err
		}
	}
	logf("signed up %d users, confirmed %d", o.users, o.confirm)

	var queueURL string
	if o.withSQS {
		queueURL, err = createQueues(ctx, sqsSrv.Endpoint)
		if err != nil {
			return err
		}
		logf("queue %s", queueURL)
	}

	if o.secretFile != "" {
		if err := writeFile(o.secretFile, []byte(pool.ClientSecret+"\n"), 0o600); err != nil {
			return err
		}
		logf("wrote client secret to %s", o.secretFile)
	}
	if o.csvFile != "" {
		if err := writeCSV(o.csvFile, usernames); err != nil {
			return err
		}
		logf("wrote %s", o.csvFile)
	}
	if o.envFile != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=%s\n", cognito.Endpoint)
		if o.withSQS {
			fmt.Fprintf(&b, "AWS_ENDPOINT_URL_SQS=%s\n", sqsSrv.Endpoint)
			fmt.Fprintf(&b, "SQS_QUEUE_URL=%s\n", queueURL)
		}
		fmt.Fprintf(&b, "COGNITO_CLIENT_ID=%s\n", pool.ClientID)
		fmt.Fprintf(&b, "COGNITO_USER_POOL_ID=%s\n", pool.ID)
		fmt.Fprintf(&b, "AWS_REGION=%s\n", emu.Region)
		fmt.Fprintf(&b, "AWS_ACCESS_KEY_ID=%s\n", emu.AccessKeyID)
		fmt.Fprintf(&b, "AWS_SECRET_ACCESS_KEY=%s\n", emu.SecretAccessKey)
		if err := writeFile(o.envFile, []byte(b.String()), 0o644); err != nil {
			return err
		}
		logf("wrote %s", o.envFile)
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

func createQueues(ctx context.Context, endpoint string) (string, error) {
	q, _, err := emu.CreateQueueWithDLQ(ctx, emu.NewSQSClient(endpoint), queueName, false, maxReceive)
	return q, err
}

// writeCSV writes a "username" column: every signed-up user, then a
// duplicate, an unknown user and two invalid names (inner space; 129 chars).
func writeCSV(path string, usernames []string) error {
	rows := [][]string{{"username"}}
	for _, u := range usernames {
		rows = append(rows, []string{u})
	}
	rows = append(rows,
		[]string{usernames[0]}, // duplicate
		[]string{unknownUser},
		[]string{spacedUser},
		[]string{usernameStem + strings.Repeat("x", 129-len(usernameStem))}, // 129 chars
	)
	var b strings.Builder
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	return writeFile(path, []byte(b.String()), 0o644)
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
