package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// A pool snapshot is self-checking: one edited by hand with its count kept (a name
// changed) is never read as the campaign's users — --resume warns, names the file and
// lists the pool again (users with rows are skipped: nothing is sent twice). A snapshot
// that is gone is listed again with a warning that says so and what it costs.
func TestPoolSnapshotChangedOrGone(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t) // una and dis UNCONFIRMED (dis disabled)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	listUsers := func() int64 { return sim.Sim.Stats().Op("ListUsers").Calls }
	snap := filepath.Join(dir, "pool.csv.pool")
	args := []string{"run", "--user-pool-id", p.ID, "--report", "pool.csv"}

	res := runBin(t, dir, env, "", append(args, "--yes")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, map[string]string{"una": "sent/", "dis": "disabled/UserDisabled"}, statusOf(t, filepath.Join(dir, "pool.csv")))

	// Same count, another name: the old trailer (a count) let --resume read it back and
	// send to "zed" (who was never listed), with no warning.
	whole, err := os.ReadFile(snap)
	require.NoError(t, err)
	require.Contains(t, string(whole), `"una"`)
	require.NoError(t, os.WriteFile(snap, []byte(strings.Replace(string(whole), `"una"`, `"zed"`, 1)), 0o600))
	sim.Sim.Reset()
	res = runBin(t, dir, env, "", append(args, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "the pool snapshot "+"pool.csv.pool was changed or damaged since it was written: it is not read; listing the pool again")
	require.NotContains(t, res.stderr, "incomplete")
	require.EqualValues(t, 1, listUsers(), "listed again")
	require.Zero(t, sim.Sim.Stats().Op("ResendConfirmationCode").Calls, "every listed user has a row: nothing sent")
	fixed, err := os.ReadFile(snap)
	require.NoError(t, err)
	require.Contains(t, string(fixed), `"una"`, "the snapshot is the pool's again")

	// Gone (deleted, or the report moved without it): a warning, not a quiet relisting.
	require.NoError(t, os.Remove(snap))
	sim.Sim.Reset()
	res = runBin(t, dir, env, "", append(args, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "no pool snapshot beside pool.csv (moved or deleted?): listing the pool again: ")
	require.Contains(t, res.stderr, "listing the pool again: about 1 page (the pool's ~4 users) at --list-rate 5/s: ~1s")
	require.EqualValues(t, 1, listUsers())
	require.Zero(t, sim.Sim.Stats().Op("ResendConfirmationCode").Calls)
}

// Every check that can refuse runs before the pool is listed or counted, and a refused
// run leaves no snapshot: the input CSV given as the report of a pool campaign, and a
// resumed CSV edited since, are exit 2 with no ListUsers call.
func TestRefusedBeforeListing(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	listUsers := func() int64 { return sim.Sim.Stats().Op("ListUsers").Calls }
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"), []byte(verifyCSV), 0o600))

	res := runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--report", "users.csv", "--resume", "--yes")
	require.Equal(t, 2, res.code, res.stderr)
	require.Zero(t, listUsers(), "refused before the listing")
	require.NoFileExists(t, filepath.Join(dir, "users.csv.pool"))

	// A CSV campaign with the census; then its CSV edited: refused before the census.
	res = runBin(t, dir, env, "", "run", "--csv", "users.csv", "--report", "r.csv", "--verify-users", "--user-pool-id", p.ID, "--yes")
	require.Equal(t, 0, res.code, res.stderr)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"), []byte(strings.Replace(verifyCSV, "con", "cox", 1)), 0o600))
	sim.Sim.Reset()
	res = runBin(t, dir, env, "", "run", "--csv", "users.csv", "--report", "r.csv", "--verify-users", "--user-pool-id", p.ID, "--resume", "--yes")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, `line 2 of users.csv is "cox"`)
	require.Zero(t, listUsers(), "refused before the census")
	require.Zero(t, sim.Sim.Stats().Calls)
}

// Ctrl-C while the pool is being listed is a stop (exit 3), says nothing was sent and
// what to do, and leaves no snapshot to be read as a complete listing.
func TestSignalDuringListingExits3(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	cmd, stderr := startBin(t, dir, env, "run", "--user-pool-id", p.ID, "--report", "pool.csv", "--yes",
		"--page-size", "1", "--list-rate", "0.2")
	deadline := time.Now().Add(20 * time.Second)
	for sim.Sim.Stats().Op("ListUsers").Calls < 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	_ = cmd.Wait()
	require.Equal(t, 3, cmd.ProcessState.ExitCode(), stderr.String())
	require.Contains(t, stderr.String(), "nothing was sent; run the same command again to start it")
	require.NoFileExists(t, filepath.Join(dir, "pool.csv.pool"))
	require.NoFileExists(t, filepath.Join(dir, "pool.csv"))
	require.Zero(t, sim.Sim.Stats().Op("ResendConfirmationCode").Calls)
}

// The same command twice without --report, the second started while the first lists
// the pool: the second is refused at once (the first's lock says what it reads), before
// any listing of its own, and leaves no file.
func TestSameCommandWhileListingRefusedAtOnce(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	args := []string{"run", "--user-pool-id", p.ID, "--yes", "--page-size", "1", "--list-rate", "0.2"}
	first, stderr := startBin(t, dir, env, args...)
	deadline := time.Now().Add(20 * time.Second)
	for sim.Sim.Stats().Op("ListUsers").Calls < 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1100 * time.Millisecond) // another second: another default report name
	listed := sim.Sim.Stats().Op("ListUsers").Calls
	before, err := os.ReadDir(dir)
	require.NoError(t, err)

	res := runBin(t, dir, env, "", args...)
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "not given, but a run from user pool "+p.ID+" is in progress (pid ")
	require.Contains(t, res.stderr, "Wait for it to end; to continue that campaign then: --resume --report cognito-resend-report-")
	require.Equal(t, listed, sim.Sim.Stats().Op("ListUsers").Calls, "the second run listed nothing")
	after, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Equal(t, len(before), len(after), "the refused run left no file")

	require.NoError(t, first.Process.Signal(syscall.SIGINT))
	_ = first.Wait()
	require.Equal(t, 3, first.ProcessState.ExitCode(), stderr.String())
}

// A CSV much smaller than the pool is looked up user by user, no census: the sandbox's
// cognito-local now answers DescribeUserPool with a true estimate, so the path runs here
// as on AWS (1 CSV row < the 2 pages a census of 64 users could take).
func TestSmallCSVNoCensus(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t) // 4 users
	ctx := t.Context()
	for i := range 60 {
		u := fmt.Sprintf("pad%02d", i)
		require.NoError(t, p.SignUp(ctx, u, u+"@example.com"))
	}
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "two.csv"), []byte("una\n"), 0o600))
	res := runBin(t, dir, env, "", "run", "--csv", "two.csv", "--dry-run", "--verify-users", "--user-pool-id", p.ID)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "checked:     each user first with a ListUsers lookup by name at 5/s (--verify-users)")
	require.Contains(t, res.stdout, "no census:   the CSV has 1 row, fewer than the up to 2 ListUsers pages a census of the pool's ~64 users could take")
	require.EqualValues(t, 1, sim.Sim.Stats().Op("ListUsers").Calls, "the start-up check only: no census")
}
