package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
)

// The fleet test (issue 10): three replicas of the built binary drain one queue through
// the quota simulator, sharing one ledger table; one is killed with SIGKILL mid-drain
// (what Kubernetes does on OOM or eviction) and a replacement starts in an empty
// directory (a new pod's emptyDir). Without the table, the killed replica's calls that
// landed before their messages were deleted come back and are sent again.

const (
	fleetUsers    = 600
	fleetReplicas = 3
	fleetWorkers  = 8
)

type replica struct {
	name   string
	dir    string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	killed bool
}

type fleet struct {
	t        *testing.T
	env      []string
	args     []string
	replicas []*replica
}

func (f *fleet) start() *replica {
	f.t.Helper()
	r := &replica{name: fmt.Sprintf("replica-%d", len(f.replicas)), dir: f.t.TempDir(), stderr: &lockedBuffer{}}
	r.cmd = exec.Command(binPath, f.args...)
	r.cmd.Dir, r.cmd.Env, r.cmd.Stderr = r.dir, f.env, r.stderr
	require.NoError(f.t, r.cmd.Start())
	f.t.Cleanup(func() { _ = r.cmd.Process.Kill(); _ = r.cmd.Wait() })
	f.replicas = append(f.replicas, r)
	return r
}

// live are the replicas not killed, oldest first.
func (f *fleet) live() []*replica {
	var out []*replica
	for _, r := range f.replicas {
		if !r.killed {
			out = append(out, r)
		}
	}
	return out
}

func TestFleetSharedLedgerNeverSendsTwice(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	fq := emu.SQS(t)
	sqsClient := emu.NewSQSClient(fq.Endpoint)
	dynamo := newLedgerTable(t)
	users := make([]string, fleetUsers)
	for i := range users {
		users[i] = fmt.Sprintf("fleet-%04d", i)
	}
	usersDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(usersDir, "users.csv"), []byte("username\n"+strings.Join(users, "\n")+"\n"), 0o600))

	for _, sc := range []struct {
		name  string
		kills []int64 // sends counted at the simulator when a replica is killed
	}{
		{"early", []int64{60}},
		{"middle", []int64{300}},
		{"late", []int64{540}},
		{"twice", []int64{150, 420}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			sim := quotasim.StartT(t, quotasim.Config{Rate: 30, Burst: 30, LatencyFixed: 20 * time.Millisecond,
				LatencyJitter: 10 * time.Millisecond, Seed: 11})
			queue, dlq := queueWithDLQ(t, sqsClient, "fleet-"+sc.name, 10)
			env := append(sqsEnv(sim.URL, fq.Endpoint, "client"), emu.DynamoEnv(dynamo)...)
			res := runBin(t, usersDir, env, "", "enqueue", "--csv", "users.csv", "--sqs-queue-url", queue)
			require.Equal(t, 0, res.code, res.stderr)

			// Each scenario its own table: the same users, never sent before.
			table := "fleet-" + sc.name
			res = runBin(t, usersDir, env, "", "ledger", "init", "--ledger-table", table)
			require.Equal(t, 0, res.code, res.stderr)

			f := &fleet{t: t, env: env, args: []string{"run", "--sqs-queue-url", queue, "--report", "r.csv",
				"--ledger-table", table, "--ledger-lease", "12s", "--visibility-timeout", "10s",
				"--wait-time-seconds", "1", "--rate", "15", "--workers", fmt.Sprint(fleetWorkers), "--max-attempts", "30",
				"--backoff-base", "50ms", "--backoff-max", "1s", "--retry-delay", "1s", "--call-timeout", "5s",
				"--log-level", "warn", "--log-format", "json"}}
			for range fleetReplicas {
				f.start()
			}
			for i, at := range sc.kills {
				waitForSends(t, sim, at, f)
				victim := f.live()[i%fleetReplicas]
				require.NoError(t, victim.cmd.Process.Signal(syscall.SIGKILL))
				_ = victim.cmd.Wait()
				victim.killed = true
				f.start() // a new pod: an empty directory
			}

			// Drain to empty: nothing visible, nothing in flight (deferred messages count).
			empty := 0
			deadline := time.Now().Add(3 * time.Minute)
			for empty < 3 {
				require.True(t, time.Now().Before(deadline), "queue not drained; replicas:\n%s", f.tails())
				vis, inFlight := queueCounts(t, sqsClient, queue)
				if vis+inFlight == 0 {
					empty++
				} else {
					empty = 0
				}
				time.Sleep(500 * time.Millisecond) // polling the queue another process drains
			}
			for _, r := range f.live() {
				require.NoError(t, r.cmd.Process.Signal(syscall.SIGTERM))
			}
			for _, r := range f.live() {
				require.NoError(t, r.cmd.Wait(), "%s: SIGTERM is a queue worker's normal end\n%s", r.name, r.stderr.String())
			}
			f.check(t, sim, users, dlq, sqsClient, sc.kills, start)
		})
	}
}

func waitForSends(t *testing.T, sim *quotasim.Server, n int64, f *fleet) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for sim.Sim.Stats().Successes < n {
		require.True(t, time.Now().Before(deadline), "never %d sends; replicas:\n%s", n, f.tails())
		for _, r := range f.live() {
			if r.cmd.ProcessState != nil {
				t.Fatalf("%s exited early:\n%s", r.name, r.stderr.String())
			}
		}
		time.Sleep(5 * time.Millisecond) // polling another process's progress
	}
}

func (f *fleet) tails() string {
	var b strings.Builder
	for _, r := range f.replicas {
		s := r.stderr.String()
		if len(s) > 2000 {
			s = s[len(s)-2000:]
		}
		fmt.Fprintf(&b, "--- %s (killed %v)\n%s\n", r.name, r.killed, s)
	}
	return b.String()
}

// check asserts the fleet's promise over every replica's report, the killed ones'
// included, against the simulator's per-user counts.
func (f *fleet) check(t *testing.T, sim *quotasim.Server, users []string, dlq string, c *sqs.Client, kills []int64, start time.Time) {
	t.Helper()
	st := sim.Sim.Stats()
	maxSends := int64(0)
	for u, us := range st.PerUser {
		if u == cognito.ProbeUsername {
			continue // a queue worker's probe: not a user
		}
		maxSends = max(maxSends, us.Successes)
		require.LessOrEqual(t, us.Successes, int64(1), "%s was sent %d codes", u, us.Successes)
	}
	rows := map[string][]string{}
	for _, r := range f.replicas {
		path := filepath.Join(r.dir, "r.csv")
		if _, err := os.Stat(path); err != nil {
			continue // killed before its first row
		}
		for u, ss := range statuses(t, path) {
			rows[u] = append(rows[u], ss...)
		}
	}
	onlyUnknown, unknownSent, recent := 0, 0, 0
	for _, u := range users {
		rs := rows[u]
		require.NotEmpty(t, rs, "%s has no row in any report", u)
		sent, unknown := 0, 0
		for _, s := range rs {
			switch s {
			case "sent":
				sent++
			case "unknown":
				unknown++
			case "recently_sent":
				recent++
			default:
				t.Fatalf("%s: a %q row (%v)", u, s, rs)
			}
		}
		require.LessOrEqual(t, sent, 1, "%s: %v", u, rs)
		if sent == 1 {
			require.Equal(t, int64(1), st.PerUser[u].Successes, "%s reported sent", u)
		}
		if sent == 0 {
			require.Equal(t, unknown, len(rs), "%s: no sent row: only unknown ones (%v)", u, rs)
			onlyUnknown++
			unknownSent += int(st.PerUser[u].Successes)
		}
	}
	vis, inFlight := queueCounts(t, c, dlq)
	require.Equal(t, 0, vis+inFlight, "nothing in the DLQ")
	t.Logf("%d users, %d replicas, kills at %v sends: max sends per user %d, %d users with only unknown rows "+
		"(%d of them sent once at the simulator), %d recently_sent rows, %d calls, %d throttled; %s",
		len(users), fleetReplicas, kills, maxSends, onlyUnknown, unknownSent, recent, st.Calls, st.Throttled,
		time.Since(start).Round(time.Second))
	// Only users claimed by a killed replica can be only unknown: its workers' jobs, and
	// the rows still in its writer's queue (2 × workers) when it died.
	require.LessOrEqual(t, onlyUnknown, 3*fleetWorkers*len(kills))
	require.Less(t, onlyUnknown, len(users)/10, "unknown must stay a small minority")
}

// waitForCalls polls the simulator (bounded) until it has seen n calls from the fleet.
func waitForCalls(t *testing.T, sim *quotasim.Server, n int64, f *fleet) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for sim.Sim.Stats().Calls < n {
		require.True(t, time.Now().Before(deadline), "never %d calls; replicas:\n%s", n, f.tails())
		time.Sleep(5 * time.Millisecond) // polling another process's progress
	}
}
