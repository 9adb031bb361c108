package main

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Process-level tests of --invitations (issue 17 part 1): the built binary against
// cognito-local (whose launcher answers AdminCreateUser MessageAction=RESEND), through
// the quota simulator, which counts every call per operation and per user.

// invitationPool is verifyPool's kinds of user and two more: "adx", admin-created and
// disabled, and "ada", a second admin-created user.
func invitationPool(t *testing.T) *emu.Pool {
	t.Helper()
	p := verifyPool(t) // una (UNCONFIRMED), con (CONFIRMED), dis (UNCONFIRMED, disabled), adm (FORCE_CHANGE_PASSWORD)
	ctx := t.Context()
	require.NoError(t, p.AdminCreate(ctx, "ada", "ada@example.com"))
	require.NoError(t, p.AdminCreate(ctx, "adx", "adx@example.com"))
	require.NoError(t, p.Disable(ctx, "adx"))
	return p
}

// invitationSim counts every call per operation and user; AdminCreateUser draws on the
// UserCreation bucket (50/s), apart from the resend's, as at Cognito.
func invitationSim(t *testing.T) *quotasim.Server {
	return quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
}

// waitOpCalls polls the simulator (bounded) until op was called at least n times.
func waitOpCalls(t *testing.T, sim *quotasim.Server, op string, n int64, proc *exec.Cmd) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if sim.Sim.Stats().Op(op).Calls >= n {
			return
		}
		if proc.ProcessState != nil {
			t.Fatalf("process exited before %d %s calls", n, op)
		}
		time.Sleep(2 * time.Millisecond) // polling real state of another process
	}
	t.Fatalf("simulator never counted %d %s calls", n, op)
}

// callsPerUser is op's calls per user at the simulator, without the start-up check's
// probe (a username no one has).
func callsPerUser(st quotasim.Stats, op string) map[string]int64 {
	out := map[string]int64{}
	for u, n := range st.PerOp[op].PerUser {
		if !strings.HasPrefix(u, "cognito-resend-check-") {
			out[u] = n
		}
	}
	return out
}

// rowsOf maps each username of a CSV report to "status/error_code/message".
func rowsOf(t *testing.T, path string) map[string]string {
	t.Helper()
	_, rows := readCSVReport(t, path)
	got := map[string]string{}
	for _, r := range rows {
		got[r["username"]] = r["status"] + "/" + r["error_code"] + "/" + r["message"]
	}
	return got
}

func TestInvitationsFromCSVWithVerification(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := invitationPool(t)
	sim := invitationSim(t)
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	csv := "una\ncon\ndis\nadm\nada\nadx\nghost\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"), []byte(csv), 0o600))

	// The census of the pool (ListUsers, both states) tells which message each user gets.
	res := runBin(t, dir, env, "", "run", "--csv", "users.csv", "--user-pool-id", p.ID, "--verify-users",
		"--invitations", "--invitation-delivery", "EMAIL", "--dry-run")
	require.Equal(t, 0, res.code, res.stderr)
	t.Logf("dry run:\n%s", res.stdout)
	require.Contains(t, res.stdout, "  by message: 1 confirmation code and 2 invitations\n")
	require.Contains(t, res.stdout, "in UNCONFIRMED, FORCE_CHANGE_PASSWORD listed")
	// A filter a state, a page each at least: the estimate is no lower than the calls made.
	require.Contains(t, res.stderr, `"list_users_calls_at_most":2,`)
	require.Contains(t, res.stderr, `"list_users_calls":2}`)
	sim.Sim.Reset()

	res = runBin(t, dir, env, csv, "run", "--csv", "-", "--report", "r.csv", "--user-pool-id", p.ID,
		"--verify-users", "--invitations", "--invitation-delivery", "EMAIL")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, map[string]string{
		"una":   "sent//confirmation",
		"adm":   "sent//invitation",
		"ada":   "sent//invitation",
		"con":   "already_confirmed/CONFIRMED/",
		"dis":   "disabled/UserDisabled/",
		"adx":   "disabled/UserDisabled/",
		"ghost": "user_not_found/UserNotFoundException/",
	}, rowsOf(t, filepath.Join(dir, "r.csv")))
	st := sim.Sim.Stats()
	require.Equal(t, map[string]int64{"una": 1}, callsPerUser(st, "ResendConfirmationCode"),
		"ResendConfirmationCode for the enabled unconfirmed user only, once")
	require.Equal(t, map[string]int64{"adm": 1, "ada": 1}, callsPerUser(st, "AdminCreateUser"),
		"AdminCreateUser RESEND for the enabled admin-created users only, once each")
	require.Contains(t, res.stderr, "summary: 1 confirmation code and 2 invitations sent; 2 AdminCreateUser RESEND attempts")
	require.Zero(t, st.Op("AdminGetUser").Calls, "verification by ListUsers: no user made a billed MAU")
	// The invitation went out through cognito-local's message delivery.
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	for _, r := range rows {
		if r["username"] == "adm" {
			require.Equal(t, "EMAIL", r["delivery_medium"])
			require.Equal(t, "a***@e***", r["destination"])
		}
	}

	// Without --invitations the admin-created users stay not_eligible, with the hint.
	sim.Sim.Reset()
	res = runBin(t, dir, env, csv, "run", "--csv", "-", "--report", "plain.csv", "--user-pool-id", p.ID, "--verify-users")
	require.Equal(t, 0, res.code, res.stderr)
	plain := rowsOf(t, filepath.Join(dir, "plain.csv"))
	require.Equal(t, "not_eligible/FORCE_CHANGE_PASSWORD/", plain["adm"])
	require.Equal(t, "sent//confirmation", plain["una"])
	require.Empty(t, callsPerUser(sim.Sim.Stats(), "AdminCreateUser"))
}

func TestInvitationsFromThePool(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := invitationPool(t)
	sim := invitationSim(t)
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	args := []string{"run", "--user-pool-id", p.ID, "--invitations", "--invitation-delivery", "EMAIL"}

	res := runBin(t, dir, env, "", append(args, "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	t.Logf("dry run:\n%s", res.stdout)
	require.Contains(t, res.stdout, "dry run: no ResendConfirmationCode call was made; 1 AdminCreateUser call, the --invitations permission check for a name no one has (nobody gets a message)\n")
	require.EqualValues(t, 1, sim.Sim.Stats().Op("AdminCreateUser").Calls, "the dry run's one call: the permission check")
	require.Contains(t, res.stdout, "to send:     3\n  by message: 1 confirmation code and 2 invitations\n")
	require.Contains(t, res.stdout, "not to send: 2 (disabled in the pool's listing")
	require.Contains(t, res.stdout, "a NEW temporary password, the old one stops working")
	require.Empty(t, callsPerUser(sim.Sim.Stats(), "AdminCreateUser"), "a dry run sends nothing")
	require.Empty(t, callsPerUser(sim.Sim.Stats(), "ResendConfirmationCode"))

	res = runBin(t, dir, env, "", append(args, "--report", "pool.csv")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, map[string]string{
		"una": "sent//confirmation",
		"adm": "sent//invitation",
		"ada": "sent//invitation",
		"dis": "disabled/UserDisabled/",
		"adx": "disabled/UserDisabled/",
	}, rowsOf(t, filepath.Join(dir, "pool.csv")), "con is not listed: CONFIRMED")
	st := sim.Sim.Stats()
	require.Equal(t, map[string]int64{"una": 1}, callsPerUser(st, "ResendConfirmationCode"))
	require.Equal(t, map[string]int64{"adm": 1, "ada": 1}, callsPerUser(st, "AdminCreateUser"))
	require.Zero(t, st.PerOp["AdminGetUser"].Calls, "the listing gave every state")

	res = runBin(t, dir, env, "", "report", "summary", "pool.csv")
	require.Equal(t, 0, res.code, res.stderr)
	t.Logf("report summary:\n%s", res.stdout)
	require.Regexp(t, `\nsent +3 +60\.0% +2 +1\n`, res.stdout)
	require.Contains(t, res.stdout, "\ninvitations  2  (users whose final row is an invitation, AdminCreateUser RESEND; 2 sent)")
	res = runBin(t, dir, env, "", "report", "summary", "--json", "pool.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, `"invitations": {`)

	// A second pass over the same pool with --resume: the report settles everyone.
	sim.Sim.Reset()
	res = runBin(t, dir, env, "", append(args, "--report", "pool.csv", "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Empty(t, callsPerUser(sim.Sim.Stats(), "AdminCreateUser"), "--resume sends no invitation twice")
}

// A pool of admin-created users, the campaign killed (SIGKILL) mid-way, then resumed:
// no user gets a second invitation.
func TestInvitationsKill9ThenResume(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	ctx := t.Context()
	p, err := emu.NewPool(ctx, cognitoURL, emu.PoolOptions{})
	require.NoError(t, err)
	const n = 120
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("adm-%03d", i)
		require.NoError(t, p.AdminCreate(ctx, users[i], users[i]+"@example.com"))
	}
	sim := invitationSim(t)
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	args := []string{"run", "--user-pool-id", p.ID, "--invitations", "--invitation-delivery", "EMAIL",
		"--report", "r.csv", "--invitation-rate", "40", "--workers", "8", "--log-level", "warn"}

	cmd, _ := startBin(t, dir, env, args...)
	waitOpCalls(t, sim, "AdminCreateUser", 40, cmd)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	before := callsPerUser(sim.Sim.Stats(), "AdminCreateUser")
	require.Less(t, len(before), n, "killed mid-way")

	res := runBin(t, dir, env, "", append(args, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	calls := callsPerUser(sim.Sim.Stats(), "AdminCreateUser")
	got := rowsOf(t, filepath.Join(dir, "r.csv"))
	unknown := 0
	for _, u := range users {
		require.LessOrEqual(t, calls[u], int64(1), "%s: AdminCreateUser called %d times", u, calls[u])
		switch got[u] {
		case "sent//invitation":
			require.Equal(t, int64(1), calls[u], u)
		case "unknown/Unknown/invitation":
			unknown++
		default:
			t.Fatalf("%s: row %q", u, got[u])
		}
	}
	require.Len(t, got, n)
	t.Logf("killed after %d invitation calls; resumed: %d users, %d invited once, %d unknown, none twice",
		len(before), n, len(calls), unknown)
}

// With the ledger table, a second campaign on the same pool within the cooldown reports
// the invited users recently_sent and calls nobody.
func TestInvitationsRecentlySentAcrossCampaigns(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := invitationPool(t)
	dynamo := newLedgerTable(t)
	sim := invitationSim(t)
	env := append(append(baseEnv(sim.URL), emu.DynamoEnv(dynamo)...), "COGNITO_CLIENT_ID="+p.ClientID)
	args := []string{"run", "--user-pool-id", p.ID, "--invitations", "--invitation-delivery", "EMAIL",
		"--ledger-table", "ledger", "--report", "r.csv"}

	first, second := t.TempDir(), t.TempDir()
	res := runBin(t, first, env, "", args...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "sent//invitation", rowsOf(t, filepath.Join(first, "r.csv"))["adm"])
	st := sim.Sim.Stats()
	calls := maps.Clone(callsPerUser(st, "AdminCreateUser"))
	require.Equal(t, map[string]int64{"adm": 1, "ada": 1}, calls)

	res = runBin(t, second, env, "", args...)
	require.Equal(t, 0, res.code, res.stderr)
	again := rowsOf(t, filepath.Join(second, "r.csv"))
	require.Equal(t, "recently_sent/RecentlySent/invitation", again["adm"])
	require.Equal(t, "recently_sent/RecentlySent/invitation", again["ada"])
	require.Equal(t, "recently_sent/RecentlySent/confirmation", again["una"])
	require.Equal(t, calls, callsPerUser(sim.Sim.Stats(), "AdminCreateUser"), "no invitation sent again")
	require.Equal(t, map[string]int64{"una": 1}, callsPerUser(sim.Sim.Stats(), "ResendConfirmationCode"))
}

// A missing cognito-idp:AdminCreateUser is found by the start-up check, before any
// call to a user: exit 2 with the fix; nobody is sent anything.
func TestInvitationsAccessDenied(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := invitationPool(t)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL, Targets: []string{"AdminCreateUser"},
		InjectAll: &quotasim.InjectedError{Type: "AccessDeniedException",
			Message: "User: arn:aws:iam::000000000000:user/x is not authorized to perform: cognito-idp:AdminCreateUser"}})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	res := runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--invitations", "--report", "r.csv")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "--invitations: AdminCreateUser: User: arn:aws:iam::000000000000:user/x is not authorized")
	require.Contains(t, res.stderr, "fix: --invitations calls cognito-idp:AdminCreateUser on user pool "+p.ID+
		": allow it for these AWS credentials (deploy/iam/policy-invitations.json), or run without --invitations")
	st := sim.Sim.Stats()
	require.EqualValues(t, 1, st.PerOp["AdminCreateUser"].Calls, "the start-up check only")
	require.Zero(t, st.PerOp["ResendConfirmationCode"].Calls, "nobody was sent anything")
}

// The options come from the environment and the config file like every option, and
// Validate's rules hold however they were given.
func TestInvitationsOptionsFromEnvAndFile(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dir := t.TempDir()
	env := append(baseEnv("http://127.0.0.1:1"), "COGNITO_CLIENT_ID=client",
		"COGNITO_RESEND_INVITATIONS=true", "COGNITO_RESEND_INVITATION_DELIVERY=sms")
	res := runBin(t, dir, append(env, "COGNITO_RESEND_USER_POOL_ID=us-east-1_x", "COGNITO_RESEND_VERIFY_USERS=true"), "",
		"config", "print", "--csv", "users.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "invitations: true")
	require.Contains(t, res.stdout, "invitation-delivery: sms")
	require.Contains(t, res.stdout, "invitation-rate: 10")

	res = runBin(t, dir, env, "", "run", "--csv", "users.csv", "--dry-run")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "--invitations: needs --user-pool-id")

	cfg := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("invitations: true\ninvitation-rate: 80\nuser-pool-id: us-east-1_x\n"), 0o600))
	res = runBin(t, dir, baseEnv("http://127.0.0.1:1"), "", "run", "--config", cfg, "--client-id", "c", "--dry-run")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "--invitation-rate: must be > 0 and <= 50 AdminCreateUser calls/s")
}

// Queue mode with --verify-users --invitations: each message's user gets the message
// their state calls for, and the message is deleted with its row.
func TestInvitationsQueue(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := invitationPool(t)
	fq := emu.SQS(t)
	c := emu.NewSQSClient(fq.Endpoint)
	sim := invitationSim(t)
	url, dlq := queueWithDLQ(t, c, "invite", 5)
	dir := t.TempDir()
	env := sqsEnv(sim.URL, fq.Endpoint, p.ClientID)
	res := runBin(t, dir, env, "una\ncon\ndis\nadm\nada\nadx\nghost\n", "enqueue", "--csv", "-", "--sqs-queue-url", url)
	require.Equal(t, 0, res.code, res.stderr)

	res = runBin(t, dir, env, "", "run", "--sqs-queue-url", url, "--report", "r.csv", "--exit-when-empty",
		"--empty-polls", "1", "--wait-time-seconds", "1", "--verify-users", "--user-pool-id", p.ID,
		"--invitations", "--invitation-delivery", "EMAIL")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, map[string]string{
		"una":   "sent//confirmation",
		"adm":   "sent//invitation",
		"ada":   "sent//invitation",
		"con":   "already_confirmed/CONFIRMED/",
		"dis":   "disabled/UserDisabled/",
		"adx":   "disabled/UserDisabled/",
		"ghost": "user_not_found/UserNotFoundException/",
	}, rowsOf(t, filepath.Join(dir, "r.csv")))
	st := sim.Sim.Stats()
	require.Equal(t, map[string]int64{"adm": 1, "ada": 1}, callsPerUser(st, "AdminCreateUser"))
	require.Equal(t, int64(1), callsPerUser(st, "ResendConfirmationCode")["una"])
	for _, q := range []string{url, dlq} {
		vis, inv := queueCounts(t, c, q)
		require.Zero(t, vis+inv, "%s: every message deleted with its row, none in the DLQ", q)
	}
}

// A finished campaign resumed with --verify-users --invitations (its dry run, a Job
// re-applied) has no line left to send: no census of the pool (it made 2 ListUsers
// calls, one a state, for no one) and no start-up check, said in the dry run and the log.
// A line added at the end is work again: the census comes back.
func TestNothingLeftToSendMakesNoCensus(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := invitationPool(t)
	sim := invitationSim(t)
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	csv := filepath.Join(dir, "users.csv")
	require.NoError(t, os.WriteFile(csv, []byte("una\ncon\ndis\nadm\nghost\n"), 0o600))
	args := []string{"run", "--csv", "users.csv", "--report", "r.csv", "--user-pool-id", p.ID, "--verify-users",
		"--invitations", "--invitation-delivery", "EMAIL", "--log-format", "text"}
	res := runBin(t, dir, env, "", args...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "list_users_calls=2") // the first run's census: a filter a state (then its lookups)
	sim.Sim.Reset()

	res = runBin(t, dir, env, "", append(args, "--resume", "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	t.Logf("dry run:\n%s\n%s", res.stdout, res.stderr)
	require.Contains(t, res.stdout, "dry run: no ResendConfirmationCode call was made\n")
	require.Contains(t, res.stdout, "to send:     0")
	require.Contains(t, res.stdout, "checked:     nothing (--verify-users): no line of the CSV is left to send\n"+
		"reads:       no ListUsers or AdminGetUser call: no census of the pool, no start-up check\n")
	require.Contains(t, res.stderr, `msg="--verify-users: no census of the pool and no start-up check: no line of the CSV is left to send"`)
	st := sim.Sim.Stats()
	require.Zero(t, st.Op("ListUsers").Calls, "no census")
	require.Zero(t, st.Op("AdminCreateUser").Calls, "no invitation start-up check")
	require.Zero(t, st.Op("ResendConfirmationCode").Calls)

	res = runBin(t, dir, env, "", append(args, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Zero(t, sim.Sim.Stats().Op("ListUsers").Calls, "the run resumed: no census either")
	require.Zero(t, sim.Sim.Stats().Op("AdminCreateUser").Calls)

	f, err := os.OpenFile(csv, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("ada\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	res = runBin(t, dir, env, "", append(args, "--resume", "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "to send:     1")
	require.Contains(t, res.stderr, "list_users_calls=2")
	require.EqualValues(t, 2, sim.Sim.Stats().Op("ListUsers").Calls, "a line to send: the census again")
}
