package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
)

// Process-level tests of --verify-users (issue 12 item 11) and the username case rule
// (item 12): the binary against cognito-local, through the quota simulator where a
// call's answer must be injected (AccessDenied, which cognito-local never gives).

// statusOf maps each username of a CSV report to "status/error_code".
func statusOf(t *testing.T, path string) map[string]string {
	t.Helper()
	_, rows := readCSVReport(t, path)
	got := map[string]string{}
	for _, r := range rows {
		got[r["username"]] = r["status"] + "/" + r["error_code"]
	}
	return got
}

// A pool whose app client has PreventUserExistenceErrors (the console's default) and
// every kind of user: unconfirmed, confirmed, disabled, admin-created; "ghost" does not
// exist.
func verifyPool(t *testing.T) *emu.Pool {
	t.Helper()
	ctx := t.Context()
	p, err := emu.NewPool(ctx, cognitoURL, emu.PoolOptions{PreventUserExistenceErrors: true})
	require.NoError(t, err)
	for _, u := range []string{"una", "con", "dis"} {
		require.NoError(t, p.SignUp(ctx, u, u+"@example.com"))
	}
	require.NoError(t, p.Confirm(ctx, "con"))
	require.NoError(t, p.Disable(ctx, "dis"))
	require.NoError(t, p.AdminCreate(ctx, "adm", "adm@example.com"))
	return p
}

const verifyCSV = "una\ncon\ndis\nadm\nghost\n"

// verified is what --verify-users reports for verifyCSV: only una gets a resend.
var verified = map[string]string{
	"una":   "sent/",
	"con":   "already_confirmed/CONFIRMED",
	"dis":   "disabled/UserDisabled",
	"adm":   "not_eligible/FORCE_CHANGE_PASSWORD",
	"ghost": "user_not_found/UserNotFoundException",
}

func TestVerifyUsersReportsOnlyTheTruth(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL}) // counts ResendConfirmationCode per user, every call per op
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)

	// Without --verify-users, PreventUserExistenceErrors makes the unknown and the
	// disabled user look sent: the problem this flag solves.
	res := runBin(t, dir, env, verifyCSV, "run", "--csv", "-", "--report", "blind.csv")
	require.Equal(t, 0, res.code, res.stderr)
	blind := statusOf(t, filepath.Join(dir, "blind.csv"))
	require.Equal(t, "sent/", blind["ghost"], "a simulated delivery for a user who does not exist")
	require.Equal(t, "sent/", blind["dis"], "a simulated delivery for a disabled user")

	// Dry run: the census of the pool (one ListUsers page: una and dis are UNCONFIRMED)
	// places una and dis; con, adm and ghost each need a lookup in the run; nothing bills.
	sim.Sim.Reset()
	res = runBin(t, dir, env, verifyCSV, "run", "--csv", "-", "--dry-run", "--verify-users", "--user-pool-id", p.ID, "--list-rate", "0.5")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "to send:     1\n")
	require.Contains(t, res.stdout, "not to send: 1 (disabled in the pool's listing")
	require.Contains(t, res.stdout, "checked:     census of the pool by ListUsers (--verify-users): 2 users in UNCONFIRMED listed; 2 of the CSV's users placed, no call each")
	require.Contains(t, res.stdout, "looked up:   3 (not in the census")
	require.Contains(t, res.stdout, "reads:       4 ListUsers calls: 1 for the census (made), 3 lookups (in the run); none of them bills a user")
	// The lookups at --list-rate 0.5 are the run's time: the ETA counts them (1 send at 20/s: 1s alone).
	require.Contains(t, res.stdout, "ETA:         7s at 20/s (6s of it: 3 ListUsers lookups at --list-rate 0.5)")
	require.NotContains(t, res.stdout, "AdminGetUser")
	require.Zero(t, sim.Sim.Stats().Op("AdminGetUser").Calls)
	require.EqualValues(t, 1, sim.Sim.Stats().Op("ListUsers").Calls, "the dry run made the census only")

	sim.Sim.Reset()
	res = runBin(t, dir, env, verifyCSV, "run", "--csv", "-", "--report", "verified.csv",
		"--verify-users", "--user-pool-id", p.ID)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, verified, statusOf(t, filepath.Join(dir, "verified.csv")))
	_, rows := readCSVReport(t, filepath.Join(dir, "verified.csv"))
	for _, r := range rows {
		if r["username"] == "adm" {
			require.Equal(t, "ListUsers: admin-created user: needs AdminCreateUser with MessageAction=RESEND, not ResendConfirmationCode (run with --invitations)",
				r["error_message"])
		}
		if r["status"] != "sent" {
			require.Equal(t, "0", r["attempts"], "%s: no resend attempt", r["username"])
		}
	}
	st := sim.Sim.Stats()
	require.Equal(t, []string{"una"}, st.SortedUsers(), "ResendConfirmationCode was called for una only")
	require.EqualValues(t, 1, st.Calls)
	require.Zero(t, st.Op("AdminGetUser").Calls, "no user made a billed monthly active user")
	require.EqualValues(t, 4, st.Op("ListUsers").Calls, "1 census page + 3 lookups (con, adm, ghost)")
	require.Contains(t, res.stderr, "summary: 4 ListUsers calls (1 listing page, 3 lookups by name); none of them bills a user")
	require.NotContains(t, res.stderr, "AdminGetUser calls")
	require.Contains(t, res.stderr, `"verify_with":"listusers"`)

	// --verify-with admin-get-user: the same rows, an AdminGetUser per user, and the
	// MAU warning in the dry run and the log.
	sim.Sim.Reset()
	res = runBin(t, dir, env, verifyCSV, "run", "--csv", "-", "--dry-run", "--verify-users", "--verify-with", "admin-get-user",
		"--user-pool-id", p.ID)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "checked:     each user first with AdminGetUser at 10/s (--verify-users)")
	require.Contains(t, res.stdout, "reads:       5 AdminGetUser calls, one per user to send")
	require.Contains(t, res.stdout, "WARNING:     --verify-with admin-get-user: AdminGetUser makes every user it checks a billed monthly active user")
	require.Contains(t, res.stdout, "ETA:         1s at 10/s")
	sim.Sim.Reset()
	res = runBin(t, dir, env, verifyCSV, "run", "--csv", "-", "--report", "agu.csv",
		"--verify-users", "--verify-with", "admin-get-user", "--user-pool-id", p.ID)
	require.Equal(t, 0, res.code, res.stderr)
	agu := statusOf(t, filepath.Join(dir, "agu.csv"))
	require.Equal(t, verified, agu)
	st = sim.Sim.Stats()
	require.EqualValues(t, 6, st.Op("AdminGetUser").Calls, "5 users and the start-up permission check")
	require.Contains(t, st.OpUsers("AdminGetUser"), "una")
	require.Zero(t, st.Op("ListUsers").Calls)
	require.Contains(t, res.stderr, "AdminGetUser makes every user it checks a billed monthly active user")
	require.Contains(t, res.stderr, "summary: 6 AdminGetUser calls (--verify-users: each user checked before the resend, and the start-up check); "+
		"each user checked is a billed monthly active user this month")
	// The pace: the check's limiter (10/s) is below --rate's (20/s), and the summary says
	// which is which instead of "rate now 20.0/s" alone.
	require.Contains(t, res.stderr, "; limiter rate now 20.0/s, --verify-users check rate now 10.0/s (the lower one sets the pace)")
}

// The pool source lists only UNCONFIRMED users, and now also leaves out the disabled
// ones: a `disabled` row, no call, with or without --verify-users.
func TestPoolSourceDisabledUser(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)

	res := runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "to send:     1")
	require.Contains(t, res.stdout, "not to send: 1 (disabled in the pool's listing")

	res = runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--report", "pool.csv", "--verify-users")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, map[string]string{"una": "sent/", "dis": "disabled/UserDisabled"}, statusOf(t, filepath.Join(dir, "pool.csv")))
	require.Equal(t, []string{"una"}, sim.Sim.Stats().SortedUsers())
	require.Contains(t, res.stderr, "no other call is needed", "the listing already answers what AdminGetUser would")
	require.NotContains(t, res.stderr, "AdminGetUser calls (--verify-users)")
	require.Zero(t, sim.Sim.Stats().Op("AdminGetUser").Calls)
}

func TestVerifyUsersUsageErrors(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	env := append(baseEnv("http://127.0.0.1:1"), "COGNITO_CLIENT_ID=c")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--csv", "-", "--verify-users"}, "--verify-users: needs --user-pool-id"},
		{[]string{"run", "--csv", "-", "--verify-users", "--user-pool-id", "us-east-1_x", "--verify-rate", "500"}, "--verify-rate: must be > 0 and <= 120"},
		{[]string{"run", "--csv", "-", "--user-pool-id", "us-east-1_x", "--created-after", "72h"}, "--created-after"},
		{[]string{"run", "--csv", "-", "--sqs-queue-url", "http://127.0.0.1:1/0/q"}, "--sqs-queue-url: choose one source"},
		// Alone it checks nothing: said, not silently accepted.
		{[]string{"run", "--csv", "-", "--user-pool-id", "us-east-1_x", "--verify-with", "admin-get-user"},
			"--verify-with: says how --verify-users reads each user's state, but --verify-users is not set: nothing would be checked. Add --verify-users"},
		{[]string{"run", "--csv", "-", "--verify-users", "--user-pool-id", "us-east-1_x", "--verify-with", "GetUser"},
			"--verify-with: must be listusers (ListUsers: bills no user) or admin-get-user"},
	} {
		res := runBin(t, t.TempDir(), env, "u\n", tc.args...)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, tc.want)
	}
	// A pool that does not exist: found by DescribeUserPool before anything is sent.
	env = append(append(baseEnv(cognitoURL), dummyCreds...), "COGNITO_CLIENT_ID=c")
	for _, args := range [][]string{
		{"run", "--csv", "-", "--report", "r.csv", "--user-pool-id", "us-east-1_nope"},
		{"run", "--csv", "-", "--report", "r.csv", "--user-pool-id", "us-east-1_nope", "--verify-users"},
	} {
		dir := t.TempDir()
		res := runBin(t, dir, env, "u\n", args...)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, "--user-pool-id: user pool us-east-1_nope not found (check --user-pool-id and --region)")
		_, err := os.Stat(filepath.Join(dir, "r.csv"))
		require.ErrorIs(t, err, os.ErrNotExist)
	}
}

// AdminGetUser refused (IAM): found by the start-up check, before any resend, exit 2
// with the fix; found later (the permission revoked mid-run), a systemic stop, exit 3.
// cognito-local never refuses, so the quota simulator answers AccessDeniedException.
func TestVerifyUsersAccessDenied(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t)
	denied := &quotasim.InjectedError{Type: "AccessDeniedException",
		Message: "User: arn:aws:iam::000000000000:user/ops is not authorized to perform: cognito-idp:AdminGetUser"}

	t.Run("at the start", func(t *testing.T) {
		t.Parallel()
		sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL, Targets: []string{"AdminGetUser", "ResendConfirmationCode"},
			InjectAll: denied})
		dir := t.TempDir()
		env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
		res := runBin(t, dir, env, verifyCSV, "run", "--csv", "-", "--report", "r.csv", "--verify-users", "--user-pool-id", p.ID,
			"--verify-with", "admin-get-user")
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, "--verify-users: AdminGetUser: User: arn:aws:iam::000000000000:user/ops is not authorized to perform: cognito-idp:AdminGetUser (AccessDeniedException)")
		require.Contains(t, res.stderr, "fix: --verify-users calls cognito-idp:AdminGetUser on user pool "+p.ID)
		require.Contains(t, res.stderr, "deploy/iam/policy-verify-users.json")
		st := sim.Sim.Stats()
		require.EqualValues(t, 1, st.Calls, "one AdminGetUser (the check), no resend")
		require.EqualValues(t, 1, st.InjectedByType["AccessDeniedException"])
		_, err := os.Stat(filepath.Join(dir, "r.csv"))
		require.ErrorIs(t, err, os.ErrNotExist, "no campaign started: no report")
	})
	t.Run("mid-run", func(t *testing.T) {
		t.Parallel()
		sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL, Targets: []string{"AdminGetUser"},
			Inject: map[string]quotasim.InjectedError{"dis": *denied}})
		dir := t.TempDir()
		env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
		res := runBin(t, dir, env, "una\ndis\ncon\n", "run", "--csv", "-", "--report", "r.csv", "--workers", "1",
			"--verify-users", "--user-pool-id", p.ID, "--verify-with", "admin-get-user")
		require.Equal(t, 3, res.code, res.stderr)
		require.Contains(t, res.stderr, "campaign stopped: Cognito answered AccessDeniedException")
		require.Contains(t, res.stderr, "fix: --verify-users calls cognito-idp:AdminGetUser")
		require.Equal(t, map[string]string{"una": "sent/"}, statusOf(t, filepath.Join(dir, "r.csv")),
			"the user whose check failed and the users after it have no row")
	})
	t.Run("no credentials", func(t *testing.T) {
		t.Parallel()
		env := append(baseEnv(cognitoURL), "COGNITO_CLIENT_ID="+p.ClientID) // none at all
		res := runBin(t, t.TempDir(), env, verifyCSV, "run", "--csv", "-", "--verify-users", "--user-pool-id", p.ID,
			"--verify-with", "admin-get-user")
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, "cognito-idp:AdminGetUser on user pool "+p.ID)
		// The default reads with ListUsers: its census is the check, and says what to allow.
		res = runBin(t, t.TempDir(), env, verifyCSV, "run", "--csv", "-", "--verify-users", "--user-pool-id", p.ID)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, "--verify-users: census of user pool "+p.ID)
		require.Contains(t, res.stderr, "needs AWS credentials allowed cognito-idp:ListUsers on it")
	})
}

// The username case rule: read from the pool when DescribeUserPool answers (the pool
// wins over a flag that disagrees), else --case-sensitive-usernames, else
// case-insensitive; the dry run and the summary say which and why.
func TestUsernameCaseRule(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	ctx := t.Context()
	pool := func(cs *bool) *emu.Pool {
		p, err := emu.NewPool(ctx, cognitoURL, emu.PoolOptions{CaseSensitive: cs})
		require.NoError(t, err)
		for _, u := range []string{"alice", "Alice"} { // cognito-local keeps them apart in any pool
			require.NoError(t, p.SignUp(ctx, u, strings.ToLower(u)+"@example.com"))
		}
		return p
	}
	insensitive, sensitive, unset := pool(aws.Bool(false)), pool(aws.Bool(true)), pool(nil)
	deniedSim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL, Targets: []string{"DescribeUserPool"},
		InjectAll: &quotasim.InjectedError{Type: "AccessDeniedException", Message: "not authorized to perform: cognito-idp:DescribeUserPool"}})

	both := map[string]string{"alice": "sent/", "Alice": "sent/"}
	one := map[string]string{"alice": "sent/", "Alice": "duplicate/"}
	for _, tc := range []struct {
		name     string
		p        *emu.Pool
		endpoint string
		args     []string
		want     map[string]string
		rule     string
		warn     string
	}{
		{"pool case-insensitive", insensitive, cognitoURL, []string{"--user-pool-id", insensitive.ID}, one,
			"usernames compared case-insensitively (pool setting)", ""},
		{"pool case-sensitive", sensitive, cognitoURL, []string{"--user-pool-id", sensitive.ID}, both,
			"usernames compared case-sensitively (pool setting)", ""},
		{"pool without UsernameConfiguration", unset, cognitoURL, []string{"--user-pool-id", unset.ID}, both,
			"usernames compared case-sensitively (pool setting: no UsernameConfiguration, so case-sensitive, the API's default)", ""},
		{"flag disagrees with the pool", sensitive, cognitoURL, []string{"--user-pool-id", sensitive.ID, "--case-sensitive-usernames=false"}, both,
			"usernames compared case-sensitively (pool setting)", "--case-sensitive-usernames=false disagrees with the user pool; following the pool"},
		{"DescribeUserPool denied, flag", sensitive, deniedSim.URL, []string{"--user-pool-id", sensitive.ID, "--case-sensitive-usernames"}, both,
			"usernames compared case-sensitively (--case-sensitive-usernames)", "not allowed to read the pool's username case setting"},
		{"DescribeUserPool denied, no flag", sensitive, deniedSim.URL, []string{"--user-pool-id", sensitive.ID}, one,
			"usernames compared case-insensitively (default; pass --case-sensitive-usernames for pools created case-sensitive)",
			"not allowed to read the pool's username case setting"},
		{"no pool, flag", sensitive, cognitoURL, []string{"--case-sensitive-usernames"}, both,
			"usernames compared case-sensitively (--case-sensitive-usernames)", ""},
		{"no pool, no flag", sensitive, cognitoURL, nil, one,
			"usernames compared case-insensitively (default; pass --case-sensitive-usernames for pools created case-sensitive)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := append(append(baseEnv(tc.endpoint), dummyCreds...), "COGNITO_CLIENT_ID="+tc.p.ClientID)
			dry := runBin(t, dir, env, "alice\nAlice\n", append([]string{"run", "--csv", "-", "--dry-run"}, tc.args...)...)
			require.Equal(t, 0, dry.code, dry.stderr)
			require.Contains(t, dry.stdout, "usernames:   "+strings.TrimPrefix(tc.rule, "usernames "))
			res := runBin(t, dir, env, "alice\nAlice\n", append([]string{"run", "--csv", "-", "--report", "r.csv"}, tc.args...)...)
			require.Equal(t, 0, res.code, res.stderr)
			require.Equal(t, tc.want, statusOf(t, filepath.Join(dir, "r.csv")))
			require.Contains(t, res.stderr, "summary: "+tc.rule)
			if tc.warn != "" {
				require.Contains(t, res.stderr, `"level":"WARN"`)
				require.Contains(t, res.stderr, tc.warn)
			} else {
				require.NotContains(t, res.stderr, `"level":"WARN"`)
			}
		})
	}

	// The pool source follows the rule too: in a case-sensitive pool Alice and alice are
	// two listed users, and both get their code.
	t.Run("pool source", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		env := append(append(baseEnv(cognitoURL), dummyCreds...), "COGNITO_CLIENT_ID="+unset.ClientID)
		res := runBin(t, dir, env, "", "run", "--user-pool-id", unset.ID, "--report", "r.csv")
		require.Equal(t, 0, res.code, res.stderr)
		require.Equal(t, both, statusOf(t, filepath.Join(dir, "r.csv")))
	})
	// --resume compares the earlier rows under the same rule.
	t.Run("resume", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		env := append(append(baseEnv(cognitoURL), dummyCreds...), "COGNITO_CLIENT_ID="+unset.ClientID)
		res := runBin(t, dir, env, "alice\n", "run", "--csv", "-", "--report", "r.csv", "--user-pool-id", unset.ID)
		require.Equal(t, 0, res.code, res.stderr)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "more.csv"), []byte("alice\nAlice\n"), 0o600))
		res = runBin(t, dir, env, "", "run", "--csv", "more.csv", "--report", "r.csv", "--resume", "--user-pool-id", unset.ID)
		require.Equal(t, 0, res.code, res.stderr)
		_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
		var got []string
		for _, r := range rows {
			got = append(got, r["username"]+"/"+r["status"])
		}
		require.Equal(t, []string{"alice/sent", "Alice/sent"}, got,
			"line 1 (alice) has its row; Alice is another user in a case-sensitive pool")
	})
}

// Queue mode: a checked-out user's message is deleted with its row (the statuses are
// final, not redelivered); only the real unconfirmed user gets a resend.
func TestQueueVerifyUsers(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := verifyPool(t)
	fq := emu.SQS(t)
	c := emu.NewSQSClient(fq.Endpoint)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	url, dlq := queueWithDLQ(t, c, "verify", 5)
	dir := t.TempDir()
	env := sqsEnv(sim.URL, fq.Endpoint, p.ClientID)
	res := runBin(t, dir, env, verifyCSV, "enqueue", "--csv", "-", "--sqs-queue-url", url)
	require.Equal(t, 0, res.code, res.stderr)

	res = runBin(t, dir, env, "", "run", "--sqs-queue-url", url, "--report", "r.csv", "--exit-when-empty",
		"--empty-polls", "1", "--wait-time-seconds", "1", "--verify-users", "--user-pool-id", p.ID)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, verified, statusOf(t, filepath.Join(dir, "r.csv")))
	st := sim.Sim.Stats()
	require.Equal(t, []string{cognito.ProbeUsername, "una"}, st.SortedUsers(), "una, and the queue worker's probe")
	require.Zero(t, st.Op("AdminGetUser").Calls, "queue mode verifies by ListUsers lookups: no user billed")
	require.EqualValues(t, 6, st.Op("ListUsers").Calls, "a lookup per message (5) and the start-up check")
	require.Contains(t, res.stderr, "summary: 6 ListUsers calls (0 listing pages, 6 lookups by name); none of them bills a user")
	for _, q := range []string{url, dlq} {
		vis, inv := queueCounts(t, c, q)
		require.Zero(t, vis+inv, "%s: every message deleted with its row, none in the DLQ", q)
	}
}
