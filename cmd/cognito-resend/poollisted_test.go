package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// A pool is listed once (issue 18): the dry run's listing is the run's (one ListUsers
// in all, counted at the simulator), --resume reads the snapshot back (no ListUsers),
// --yes gets its progress total from the same listing, a snapshot cut short is listed
// again, and one of another pool beside an existing report stops the run (exit 2).
func TestPoolListedOnce(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t) // una and dis UNCONFIRMED (dis disabled), con confirmed, adm admin-created
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	listUsers := func() int64 { return sim.Sim.Stats().Op("ListUsers").Calls }
	snap := filepath.Join(dir, "pool.csv.pool")

	res := runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--report", "pool.csv", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "to send:     1\n")
	require.Contains(t, res.stdout, "pool:        2 users (listed now: 1 ListUsers call; bills no user)")
	require.Contains(t, res.stdout, "snapshot:    pool.csv.pool (the run with this --report within 1h0m0s reads it instead of listing the pool again; --resume always does)")
	require.EqualValues(t, 1, listUsers(), "the dry run listed the pool once")
	fi, err := os.Stat(snap)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "usernames: not world-readable")

	res = runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--report", "pool.csv", "--yes")
	require.Equal(t, 0, res.code, res.stderr)
	require.EqualValues(t, 1, listUsers(), "the run consumed the dry run's listing: the pool was listed once in all")
	require.Contains(t, res.stderr, "pool snapshot read back: the pool is not listed again")
	require.Contains(t, res.stderr, `"total":2`, "--yes: the progress total from the same listing")
	require.Equal(t, map[string]string{"una": "sent/", "dis": "disabled/UserDisabled"}, statusOf(t, filepath.Join(dir, "pool.csv")))
	require.Equal(t, []string{"una"}, sim.Sim.Stats().SortedUsers())

	sim.Sim.Reset()
	res = runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--report", "pool.csv", "--resume")
	require.Equal(t, 0, res.code, res.stderr)
	require.Zero(t, listUsers(), "--resume reads the snapshot back: no ListUsers")
	require.Zero(t, sim.Sim.Stats().Calls, "and sends nothing: every user has a row")

	// A snapshot cut short (its listing interrupted): listed again, with a warning.
	whole, err := os.ReadFile(snap)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(whole), "\n")
	require.NoError(t, os.WriteFile(snap, []byte(strings.Join(lines[:len(lines)-2], "")), 0o600), "drop the end line")
	res = runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--report", "pool.csv", "--resume")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "the pool snapshot is incomplete (its listing was interrupted): listing the pool again")
	require.EqualValues(t, 1, listUsers())
	require.Zero(t, sim.Sim.Stats().Calls)

	// Another pool's snapshot beside this campaign's report: exit 2, nothing sent.
	other := verifyPool(t)
	res = runBin(t, dir, env, "", "run", "--user-pool-id", other.ID, "--report", "other.csv", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	require.NoError(t, os.Rename(filepath.Join(dir, "other.csv.pool"), snap))
	res = runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--report", "pool.csv", "--resume")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "the pool snapshot "+"pool.csv.pool beside the report lists user pool "+other.ID+", not "+p.ID)
	require.Zero(t, sim.Sim.Stats().Calls)

	// Before any report: another pool's dry-run snapshot is listed over (a corrected pool id).
	sim.Sim.Reset()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "new.csv.pool"), whole, 0o600)) // p's listing
	res = runBin(t, dir, env, "", "run", "--user-pool-id", other.ID, "--report", "new.csv", "--yes")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "lists another user pool")
	require.EqualValues(t, 1, listUsers())
	require.Equal(t, map[string]string{"una": "sent/", "dis": "disabled/UserDisabled"}, statusOf(t, filepath.Join(dir, "new.csv")))

	// An --invitations dry run's snapshot (two states) used without --invitations: listed
	// again with a WARN like every other relisting (it was INFO).
	res = runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--report", "inv.csv", "--dry-run", "--invitations")
	require.Equal(t, 0, res.code, res.stderr)
	res = runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--report", "inv.csv", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, `"level":"WARN","msg":"the pool snapshot lists other states or another creation window: listing the pool again: `)
}

// The confirmation prompt counts from the listing the run then consumes: one ListUsers
// for prompt and run together. With --verify-with admin-get-user, the prompt warns that
// each user checked becomes a billed monthly active user.
func TestPromptListsOnceAndWarnsOfMAU(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	var env []string
	for _, e := range baseEnv(sim.URL) {
		if !strings.HasPrefix(e, "COGNITO_RESEND_YES=") {
			env = append(env, e)
		}
	}
	env = append(append(env, dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID, "TERM=dumb")

	code, out := runOnPTY(t, dir, env, "y", "run", "--user-pool-id", p.ID, "--report", "pool.csv")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "About to resend confirmation codes to 1 user at ") // not "1 users"
	require.EqualValues(t, 1, sim.Sim.Stats().Op("ListUsers").Calls, "the prompt's count and the run: one listing")
	require.Equal(t, []string{"una"}, sim.Sim.Stats().SortedUsers())

	require.NoError(t, os.WriteFile(filepath.Join(dir, "u.csv"), []byte(verifyCSV), 0o600))
	code, out = runOnPTY(t, dir, env, "n", "run", "--csv", "u.csv", "--report", "agu.csv", "--verify-users",
		"--verify-with", "admin-get-user", "--user-pool-id", p.ID)
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "WARNING:     --verify-with admin-get-user: AdminGetUser makes every user it checks a billed monthly active user")
	require.Contains(t, out, "reads:       5 AdminGetUser calls, one per user to send (in the run), and 1 made now to check the permission (for a name no one has: bills no user)")
	require.EqualValues(t, 1, sim.Sim.Stats().Op("AdminGetUser").Calls, "the start-up check the reads line names")

	sim.Sim.Reset()
	code, out = runOnPTY(t, dir, env, "n", "run", "--csv", "u.csv", "--report", "lu.csv", "--verify-users", "--user-pool-id", p.ID)
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "reads:       4 ListUsers calls: 1 for the census (made), 3 lookups (in the run); none of them bills a user")
	require.NotContains(t, out, "WARNING")
	require.Zero(t, sim.Sim.Stats().Op("AdminGetUser").Calls)
}
