// Command lambdademo lets an operator try Lambda mode on this machine (make lambda-demo):
// it starts cognito-local with the quota simulator in front, fauxqs and dynalite on
// 127.0.0.1, creates a pool with users (some confirmed), a queue with its DLQ and the
// ledger table, enqueues the users with `cognito-resend enqueue`, runs the built binary as
// `bootstrap` in --envs execution environments behind the project's own Runtime API and
// SQS event source mapping (testenv/lambdaesm), waits for the queue to drain, prints what
// each environment logged, then `ledger export` and `report summary` of the campaign, and
// stops everything (also on Ctrl-C).
//
//	go build -o bin/lambdademo ./testenv/cmd/lambdademo
//	bin/lambdademo --bin bin/cognito-resend --users 40 --confirm 5 --envs 3
//
// The client secret goes to the function's environment only (COGNITO_CLIENT_SECRET, as
// the template fills it); it is never printed.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/lambdaesm"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

const (
	functionName = "cognito-resend"
	queueName    = "lambda-demo"
	ledgerTable  = "cognito-resend-ledger"
	unknownUser  = "lambda-user-unknown"
	// The template's function and queue: a 60 s timeout (≥ --call-timeout + 3 s + a
	// batch at the rate), visibility 6 × that, 5 receives before the DLQ.
	maxReceive = 5
	fnTimeout  = 60 * time.Second
	visibility = 360 * time.Second
)

type options struct {
	bin            string
	users, confirm int
	envs           int
	rate           string
	dir            string
	drainTimeout   time.Duration
}

func main() {
	var o options
	fs := flag.NewFlagSet("lambdademo", flag.ContinueOnError)
	fs.StringVar(&o.bin, "bin", "bin/cognito-resend", "the built cognito-resend binary (run as bootstrap)")
	fs.IntVar(&o.users, "users", 40, "users to sign up and enqueue (lambda-user-001 ...)")
	fs.IntVar(&o.confirm, "confirm", 5, "how many of them are confirmed already (the first K)")
	fs.IntVar(&o.envs, "envs", 3, "execution environments (the ESM's MaximumConcurrency)")
	fs.StringVar(&o.rate, "rate", "5", "COGNITO_RESEND_RATE of each environment")
	fs.StringVar(&o.dir, "dir", "", "working directory for the CSV and the report (default: a new temporary one)")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 3*time.Minute, "give up when the queue has not drained by then")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if msg := checkSizes(o, fs.Args()); msg != "" {
		fmt.Fprintln(os.Stderr, "lambdademo: "+msg)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	err := run(ctx, o, os.Stdout)
	logf("stopped")
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdademo:", err)
		os.Exit(1)
	}
}

// checkSizes names the value that is out of range, or "".
func checkSizes(o options, args []string) string {
	switch {
	case len(args) > 0:
		return fmt.Sprintf("takes no arguments (got %q)", args)
	case o.users < 1 || o.users > 999:
		return fmt.Sprintf("--users %d: want 1 to 999", o.users)
	case o.confirm < 0 || o.confirm > o.users:
		return fmt.Sprintf("--confirm %d: want 0 to --users (%d)", o.confirm, o.users)
	case o.envs < 1 || o.envs > 20:
		return fmt.Sprintf("--envs %d: want 1 to 20", o.envs)
	}
	return ""
}

// demoReport is the report ledger export writes in the demo's directory.
const demoReport = "lambda.csv"

func run(ctx context.Context, o options, out io.Writer) error {
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("--bin: %w (make build)", err)
	}
	keep := o.dir != "" // a temporary directory is removed at the end; --dir's is kept
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "cognito-resend-lambda-demo-"); err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(o.dir) }() // runs last: after the emulators and environments stopped
	} else if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	} else if _, err := os.Stat(filepath.Join(o.dir, demoReport)); err == nil {
		// ledger export never overwrites: say so now, not after minutes of demo.
		return fmt.Errorf("--dir %s already holds %s from an earlier demo: give another --dir, or remove it", o.dir, demoReport)
	}

	// The emulators, closed in reverse order by the defers.
	logf("starting cognito-local, fauxqs, dynalite")
	cognito, err := emu.StartCognito(ctx)
	if err != nil {
		return err
	}
	defer closeServer("cognito-local", cognito)
	fq, err := emu.StartSQS(ctx)
	if err != nil {
		return err
	}
	defer closeServer("fauxqs", fq)
	dynamo, err := emu.StartDynamo(ctx)
	if err != nil {
		return err
	}
	defer closeServer("dynalite", dynamo)
	simCfg, _ := quotasim.Preset("cognito")
	simCfg.Upstream = cognito.Endpoint
	sim, err := quotasim.Start(context.WithoutCancel(ctx), simCfg)
	if err != nil {
		return fmt.Errorf("quota simulator: %w", err)
	}
	defer func() { _ = sim.Close() }()

	pool, err := emu.NewPool(ctx, cognito.Endpoint, emu.PoolOptions{Name: "lambda-demo-pool", WithSecret: true})
	if err != nil {
		return err
	}
	users := make([]string, o.users)
	var csv strings.Builder
	csv.WriteString("username\n")
	for i := range users {
		users[i] = fmt.Sprintf("lambda-user-%03d", i+1)
		if err := pool.SignUp(ctx, users[i], users[i]+"@example.com"); err != nil {
			return err
		}
		if i < o.confirm {
			if err := pool.Confirm(ctx, users[i]); err != nil {
				return err
			}
		}
		csv.WriteString(users[i] + "\n")
	}
	csv.WriteString(unknownUser + "\n") // never signed up: user_not_found, a final answer
	if err := os.WriteFile(filepath.Join(o.dir, "users.csv"), []byte(csv.String()), 0o644); err != nil {
		return err
	}
	sqsClient := emu.NewSQSClient(fq.Endpoint)
	queue, dlq, err := emu.CreateQueueWithDLQ(ctx, sqsClient, queueName, false, maxReceive)
	if err != nil {
		return err
	}
	if _, err := sqsClient.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(queue),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameVisibilityTimeout): fmt.Sprint(int(visibility.Seconds()))}}); err != nil {
		return err
	}
	attrs, err := sqsClient.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queue),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return err
	}
	logf("cognito-local %s behind the quota simulator %s; fauxqs %s; dynalite %s; pool %s; %d users (%d confirmed)",
		cognito.Endpoint, sim.URL, fq.Endpoint, dynamo.Endpoint, pool.ID, o.users, o.confirm)

	env := append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "COGNITO_")
	}), "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+sim.URL, "AWS_ENDPOINT_URL_SQS="+fq.Endpoint,
		"COGNITO_CLIENT_ID="+pool.ClientID)
	env = append(env, emu.DynamoEnv(dynamo.Endpoint)...)
	step := func(args ...string) error {
		fmt.Fprintf(out, "\n$ cognito-resend %s\n", strings.ReplaceAll(strings.Join(args, " "), queue, "$QUEUE_URL"))
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = o.dir, env, out, out
		return cmd.Run()
	}
	fmt.Fprintf(out, "== queue %s ($QUEUE_URL) with its DLQ %s-dlq after %d receives, visibility %s; ledger table %s\n",
		queueName, queueName, maxReceive, visibility, ledgerTable)
	if err := step("ledger", "init", "--ledger-table", ledgerTable, "--log-level", "warn"); err != nil {
		return fmt.Errorf("ledger init: %w", err)
	}
	if err := step("enqueue", "--csv", "users.csv", "--sqs-queue-url", queue, "--log-format", "text", "--log-level", "warn"); err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}

	// The function: the binary as bootstrap, configured as the template configures it.
	boot := filepath.Join(o.dir, "bootstrap")
	_ = os.Remove(boot)
	if err := os.Symlink(bin, boot); err != nil {
		return err
	}
	fnEnv := append(slices.Clone(env), "COGNITO_CLIENT_SECRET="+pool.ClientSecret,
		"COGNITO_RESEND_LEDGER_TABLE="+ledgerTable, "COGNITO_RESEND_RATE="+o.rate,
		fmt.Sprintf("COGNITO_RESEND_MAX_RECEIVE_COUNT=%d", maxReceive), "COGNITO_RESEND_LOG_LEVEL=info")
	var mu sync.Mutex
	logs := make([][]*bytes.Buffer, o.envs) // per environment, per process (cold start)
	fmt.Fprintf(out, "\n== %d users (+ %s, not in the pool) through %d Lambda environments (bootstrap = %s; batch 10, timeout %s, rate %s/s each)\n",
		o.users, unknownUser, o.envs, o.bin, fnTimeout, o.rate)
	started := time.Now()
	esm, err := lambdaesm.Start(ctx, lambdaesm.Config{
		SQS: sqsClient, QueueURL: queue, QueueARN: attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)],
		FunctionName: functionName, Timeout: fnTimeout, BatchSize: 10, Window: 200 * time.Millisecond,
		MaxConcurrency: o.envs,
		Command: func(i int) *exec.Cmd {
			c := exec.Command(boot)
			b := &bytes.Buffer{}
			mu.Lock()
			logs[i] = append(logs[i], b)
			mu.Unlock()
			c.Dir, c.Env, c.Stderr = o.dir, slices.Clone(fnEnv), &lockedWriter{mu: &mu, w: b}
			return c
		},
	})
	if err != nil {
		return err
	}
	initFailed := func() bool { return len(esm.Stats().InitErrors) > 0 }
	drained := waitDrained(ctx, sqsClient, queue, o.drainTimeout, initFailed)
	took := time.Since(started)
	stats := esm.Stats()
	esm.Close()
	ss := sim.Sim.Stats()
	answered := ss.Calls - ss.Throttled - ss.UpstreamErrors
	if ctx.Err() != nil {
		fmt.Fprintf(out, "\n== interrupted after %s: %d ResendConfirmationCode calls answered so far (%d sent a code), "+
			"%d messages deleted from the queue, %d invocations; the rest of the queue was left unsent\n",
			took.Round(100*time.Millisecond), answered, ss.Successes, stats.Deleted, stats.Invocations)
		return errors.New("interrupted")
	}
	mu.Lock()
	summarise(out, logs)
	mu.Unlock()
	if len(stats.InitErrors) > 0 {
		// The function never started: no batch ran, so there is nothing to export.
		msgs := map[string]bool{}
		for _, body := range stats.InitErrors {
			var e struct {
				ErrorMessage string `json:"errorMessage"`
			}
			if json.Unmarshal([]byte(body), &e) == nil && !msgs[e.ErrorMessage] {
				msgs[e.ErrorMessage] = true
				fmt.Fprintf(out, "init error (posted to the Runtime API): %s\n", e.ErrorMessage)
			}
		}
		return fmt.Errorf("the function's cold start failed %d time(s) (the init error above): nothing was sent; stopped at once", len(stats.InitErrors))
	}
	dv, dn, _ := emu.QueueCounts(ctx, sqsClient, dlq)
	fmt.Fprintf(out, "ESM: %d invocations, %d messages delivered, %d deleted, %d batch item failures, %d whole-batch failures; queue drained: %v in %s; DLQ: %d messages\n",
		stats.Invocations, stats.Messages, stats.Deleted, stats.ItemFailures, stats.WholeFailures, drained, took.Round(100*time.Millisecond), dv+dn)
	if len(stats.ColdStarts) > 0 {
		slices.Sort(stats.ColdStarts)
		fmt.Fprintf(out, "cold starts (process start → first invocation/next): %d, %s to %s\n", len(stats.ColdStarts),
			stats.ColdStarts[0].Round(time.Millisecond), stats.ColdStarts[len(stats.ColdStarts)-1].Round(time.Millisecond))
	}
	fmt.Fprintf(out, "quota simulator: %d ResendConfirmationCode calls answered (%d sent a code, %d Cognito errors: "+
		"already confirmed, user not found, …), %d throttled\n", answered, ss.Successes, answered-ss.Successes, ss.Throttled)

	if err := step("ledger", "export", "--ledger-table", ledgerTable, "--campaign", "lambda:"+functionName, "--output", demoReport); err != nil {
		return fmt.Errorf("ledger export: %w", err)
	}
	if err := step("report", "summary", demoReport); err != nil {
		return fmt.Errorf("report summary: %w", err)
	}
	if keep {
		fmt.Fprintf(out, "\nreport: %s\n", filepath.Join(o.dir, demoReport))
	} else {
		fmt.Fprintf(out, "\nreport: removed with the demo's temporary directory (--dir DIR keeps lambda.csv)\n")
	}
	if !drained {
		return fmt.Errorf("the queue did not drain within %s", o.drainTimeout)
	}
	return nil
}

// waitDrained waits until the queue holds nothing, visible or in flight, three looks in
// a row; it gives up at once when failed says so (a cold start failed: nothing drains).
func waitDrained(ctx context.Context, c *sqs.Client, queue string, timeout time.Duration, failed func() bool) bool {
	deadline := time.Now().Add(timeout)
	for empty := 0; empty < 3; {
		if time.Now().After(deadline) || ctx.Err() != nil || failed() {
			return false
		}
		v, n, err := emu.QueueCounts(ctx, c, queue)
		if err == nil && v+n == 0 {
			empty++
		} else {
			empty = 0
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond): // the environments drain it
		}
	}
	return true
}

// summarise prints, per environment, its cold starts and the counts of its JSON log lines:
// "message" lines by batch_item and status, "batch done…" lines.
func summarise(out io.Writer, logs [][]*bytes.Buffer) {
	for i, procs := range logs {
		messages := map[string]int{}
		batches := 0
		var other []string
		for _, b := range procs {
			for line := range strings.SplitSeq(b.String(), "\n") {
				var m struct {
					Msg       string `json:"msg"`
					Level     string `json:"level"`
					BatchItem string `json:"batch_item"`
					Status    string `json:"status"`
					Reason    string `json:"reason"`
					Error     string `json:"error"`
				}
				if json.Unmarshal([]byte(line), &m) != nil {
					continue
				}
				switch {
				case m.Msg == "message":
					k := m.BatchItem + " " + m.Status
					if m.Reason != "" {
						k += " (" + m.Reason + ")"
					}
					messages[k]++
				case strings.HasPrefix(m.Msg, "batch done"):
					batches++
				case m.Level == "WARN" || m.Level == "ERROR":
					l := m.Level + " " + m.Msg
					if m.Error != "" {
						l += ": " + m.Error // the init error's reason
					}
					other = append(other, l)
				}
			}
		}
		keys := make([]string, 0, len(messages))
		for k := range messages {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for j, k := range keys {
			parts[j] = fmt.Sprintf("%d %s", messages[k], k)
		}
		fmt.Fprintf(out, "environment %d: %d process(es), %d batches; message lines: %s\n", i, len(procs), batches, strings.Join(parts, ", "))
		for _, l := range uniq(other) {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
}

func uniq(s []string) []string {
	seen := map[string]int{}
	var out []string
	for _, x := range s {
		if seen[x] == 0 {
			out = append(out, x)
		}
		seen[x]++
	}
	for i, x := range out {
		if seen[x] > 1 {
			out[i] = fmt.Sprintf("%s (×%d)", x, seen[x])
		}
	}
	return out
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func closeServer(name string, s *emu.Server) {
	if err := s.Close(); err != nil {
		logf("stop %s: %v", name, err)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "lambdademo: "+format+"\n", args...)
}
