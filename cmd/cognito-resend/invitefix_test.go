package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// The operator trial (invitations): the first Ctrl-C counts the AdminCreateUser calls in
// flight as well as the resends (one counter of Cognito sends), and the run summary's
// "Cognito attempts" counts both, each named.
func TestInvitationsCtrlCCountsEveryCallInFlight(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := invitationPool(t) // una (UNCONFIRMED), adm and ada (FORCE_CHANGE_PASSWORD), ...
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL, LatencyFixed: 6 * time.Second,
		Targets: []string{"ResendConfirmationCode", "AdminCreateUser"}}) // both held 6 s
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	cmd := exec.Command(binPath, "run", "--user-pool-id", p.ID, "--invitations", "--invitation-delivery", "EMAIL",
		"--report", "r.csv", "--call-timeout", "60s")
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	// The start-up check, then adm's and ada's invitations and una's resend, all held.
	waitOpCalls(t, sim, "AdminCreateUser", 3, cmd)
	waitOpCalls(t, sim, "ResendConfirmationCode", 1, cmd)
	t.Logf("at the signal: %v; %v", sim.Sim.Stats().Op("AdminCreateUser").PerUser, sim.Sim.Stats().Op("ResendConfirmationCode").PerUser)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	ok := assert.Eventually(t, func() bool {
		return strings.Contains(stderr.String(), "stopping: 3 calls in flight, waiting up to ")
	}, 5*time.Second, 5*time.Millisecond, "the first signal counts the invitations in flight: %s", stdout.String()+stderr.String())
	_ = cmd.Wait()
	require.True(t, ok, stdout.String()+stderr.String())
	require.Contains(t, stderr.String(), "press Ctrl-C again to abort them")
	out := stdout.String() + stderr.String()
	t.Log(out)
	require.Contains(t, out, "; 3 Cognito attempts (1 ResendConfirmationCode, 2 AdminCreateUser), ")
}

// The operator trial: in a case-sensitive campaign inv-03 (sent) and INV-03
// (user_not_found) are two users; `report users` and `report summary` merge rows as the
// run's dedupe compared them (the report's input record), not case-insensitively.
func TestReportsMergeByTheCampaignsCaseRule(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{Inject: map[string]quotasim.InjectedError{
		"INV-03": {Type: "UserNotFoundException", Message: "User does not exist."},
	}})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"), []byte("username\ninv-01\ninv-03\nINV-03\n"), 0o600))
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=client")
	res := runBin(t, dir, env, "", "run", "--csv", "users.csv", "--report", "r.csv", "--case-sensitive-usernames")
	require.Equal(t, 0, res.code, res.stderr)

	res = runBin(t, dir, env, "", "report", "users", "--status", "sent", "r.csv")
	require.Equal(t, 0, res.code, res.stderr)
	require.ElementsMatch(t, []string{"username,final_status", "inv-01,sent", "inv-03,sent"},
		strings.Split(strings.TrimSpace(res.stdout), "\n"), "inv-03's sent row is not hidden by INV-03's")
	res = runBin(t, dir, env, "", "report", "summary", "r.csv")
	require.Equal(t, 0, res.code, res.stderr)
	t.Logf("report summary:\n%s", res.stdout)
	require.Regexp(t, `(?m)^users +3  \(usernames compared case-sensitively, as the campaign.s dedupe did\)$`, res.stdout)
	require.Regexp(t, `\nrows +3 +\(0 superseded`, res.stdout)
}

// The operator trial: a report begun before the message column (12 columns), resumed
// with --invitations, recorded invitations as plain `sent`. It is refused before any
// call (dry run included), with the way out; without --invitations it resumes as before.
func TestInvitationsRefuseANarrowReport(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := invitationPool(t)
	sim := invitationSim(t)
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"), []byte("una\nadm\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "r.csv"), []byte(strings.Join(wantColumnsV1, ",")+"\n"+
		"una,sent,1,,,EMAIL,u***@e***,email,,1,2026-01-01T00:00:00Z,2026-01-01T00:00:01Z\n"), 0o600))
	args := []string{"run", "--csv", "users.csv", "--report", "r.csv", "--resume", "--user-pool-id", p.ID, "--verify-users"}
	refusal := ""
	for _, extra := range [][]string{{"--dry-run"}, nil} {
		res := runBin(t, dir, env, "", append(append(args, "--invitations", "--invitation-delivery", "EMAIL"), extra...)...)
		require.Equal(t, 2, res.code, res.stderr)
		t.Logf("stderr:\n%s", res.stderr)
		refusal = res.stderr
		require.Contains(t, res.stderr, "--invitations: the report r.csv was begun by an earlier version, without the message column")
		require.Contains(t, res.stderr, "cognito-resend report users --status not_eligible -o admin-created.csv r.csv")
	}
	require.Empty(t, callsPerUser(sim.Sim.Stats(), "AdminCreateUser"))
	require.Empty(t, callsPerUser(sim.Sim.Stats(), "ResendConfirmationCode"))
	require.Zero(t, sim.Sim.Stats().Op("AdminCreateUser").Calls, "refused before the permission check")

	res := runBin(t, dir, env, "", args...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "not_eligible/FORCE_CHANGE_PASSWORD/", rowsOf(t, filepath.Join(dir, "r.csv"))["adm"])

	// The way out the message gives works as printed (the trial pasted it and got exit 2:
	// it lacked --user-pool-id and --verify-users): adm gets its invitation, una nothing more.
	res = runBin(t, dir, env, "", "report", "users", "--status", "not_eligible", "-o", "admin-created.csv", "r.csv")
	require.Equal(t, 0, res.code, res.stderr)
	printed := regexp.MustCompile(`; then cognito-resend (run [^(]*) \(`).FindStringSubmatch(refusal)
	require.NotNil(t, printed, refusal)
	t.Logf("the printed command: cognito-resend %s", printed[1])
	res = runBin(t, dir, env, "", strings.Fields(printed[1])...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, map[string]string{"adm": "sent//invitation"}, rowsOf(t, filepath.Join(dir, "invitations.csv")))
	require.Equal(t, map[string]int64{"adm": 1}, callsPerUser(sim.Sim.Stats(), "AdminCreateUser"))
	require.Empty(t, callsPerUser(sim.Sim.Stats(), "ResendConfirmationCode"))
}

// The operator trial: a campaign run without --invitations leaves its admin-created
// users not_eligible, the row saying "(run with --invitations)"; --resume --invitations
// then invites exactly them (nobody else is called again), and the dry run counts them.
func TestInvitationsResumeInvitesTheNotEligible(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := invitationPool(t)
	sim := invitationSim(t)
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "users.csv"), []byte("una\nadm\nada\n"), 0o600))
	args := []string{"run", "--csv", "users.csv", "--report", "r.csv", "--user-pool-id", p.ID, "--verify-users"}
	res := runBin(t, dir, env, "", args...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, map[string]string{"una": "sent//confirmation", "adm": "not_eligible/FORCE_CHANGE_PASSWORD/",
		"ada": "not_eligible/FORCE_CHANGE_PASSWORD/"}, rowsOf(t, filepath.Join(dir, "r.csv")))
	sim.Sim.Reset()

	inv := append(args, "--resume", "--invitations", "--invitation-delivery", "EMAIL")
	res = runBin(t, dir, env, "", append(inv, "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	t.Logf("dry run:\n%s", res.stdout)
	require.Contains(t, res.stdout, "to send:     2\n")
	require.Contains(t, res.stdout, "  again:     2 (called before, or not: their latest row is failed, limit_exceeded, unknown or, with --invitations, not_eligible FORCE_CHANGE_PASSWORD)\n")

	res = runBin(t, dir, env, "", inv...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, map[string]string{"una": "sent//confirmation", "adm": "sent//invitation", "ada": "sent//invitation"},
		rowsOf(t, filepath.Join(dir, "r.csv")))
	require.Equal(t, map[string]int64{"adm": 1, "ada": 1}, callsPerUser(sim.Sim.Stats(), "AdminCreateUser"))
	require.Empty(t, callsPerUser(sim.Sim.Stats(), "ResendConfirmationCode"), "una is not called again")
}

// The operator trial: the prompt repeats the new-temporary-password warning (only the
// dry run said it), and both warn when --invitation-delivery is unset (Cognito's
// default is SMS: users without a phone number fail).
func TestInvitationsPromptWarns(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := invitationPool(t)
	sim := invitationSim(t)
	dir := t.TempDir()
	var env []string
	for _, e := range baseEnv(sim.URL) {
		if !strings.HasPrefix(e, "COGNITO_RESEND_YES=") {
			env = append(env, e)
		}
	}
	env = append(append(env, dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID, "TERM=dumb")
	const password = "invitations: admin-created users (FORCE_CHANGE_PASSWORD) get their invitation again (AdminCreateUser RESEND): a NEW temporary password, the old one stops working"
	const sms = "WARNING:     --invitation-delivery is unset: Cognito then sends the invitation by SMS, and a user without a phone number gets nothing (their row: failed); set --invitation-delivery EMAIL (or SMS to confirm)"
	args := []string{"run", "--user-pool-id", p.ID, "--invitations", "--report", "r.csv"}

	res := runBin(t, dir, env, "", append(args, "--dry-run")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, password+"\n"+sms+"\n")

	code, out := runOnPTY(t, dir, env, "n", args...)
	require.Equal(t, 2, code, out)
	t.Logf("prompt:\n%s", out)
	out = strings.ReplaceAll(out, "\r\n", "\n")
	require.Regexp(t, regexp.QuoteMeta(password+"\n"+sms+"\n")+`About to send 1 confirmation code and 2 invitations to 3 users at `, out)
	// The prompt gives the invitation rate and the dry run's ETA.
	eta := regexp.MustCompile(`(?m)^ETA: +(\S+) `).FindStringSubmatch(res.stdout)
	require.Len(t, eta, 2, res.stdout)
	require.Contains(t, out, " users at 20/s (invitations at 10/s beside them) (about "+eta[1]+"). Continue? [y/N]")
	require.Empty(t, callsPerUser(sim.Sim.Stats(), "AdminCreateUser"), "answered no: nothing sent")

	code, out = runOnPTY(t, dir, env, "n", append(args, "--invitation-delivery", "EMAIL")...)
	require.Equal(t, 2, code, out)
	require.Contains(t, out, password)
	require.NotContains(t, out, "--invitation-delivery is unset")
}

// The operator trial: after the second Ctrl-C, a user whose invitation call was aborted
// "may have been sent a code or an invitation", not only "a code".
func TestInvitationsSecondSignalSaysInvitation(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	p := invitationPool(t)
	sim := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL, LatencyFixed: 8 * time.Second,
		Targets: []string{"ResendConfirmationCode", "AdminCreateUser"}})
	dir := t.TempDir()
	env := append(append(baseEnv(sim.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	cmd := exec.Command(binPath, "run", "--user-pool-id", p.ID, "--invitations", "--invitation-delivery", "EMAIL",
		"--report", "r.csv", "--call-timeout", "60s")
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitOpCalls(t, sim, "AdminCreateUser", 3, cmd)
	waitOpCalls(t, sim, "ResendConfirmationCode", 1, cmd)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "stopping: 3 calls in flight") },
		5*time.Second, 5*time.Millisecond, stderr.String())
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	_ = cmd.Wait()
	out := stdout.String() + stderr.String()
	t.Log(out)
	require.Equal(t, 3, cmd.ProcessState.ExitCode())
	require.Contains(t, out, "3 users may have been sent a code or an invitation but have no row (their calls were aborted): ")

	// The resume writes them unknown, each row saying which message it may have received.
	res := runBin(t, dir, env, "", "run", "--user-pool-id", p.ID, "--invitations", "--invitation-delivery", "EMAIL",
		"--report", "r.csv", "--resume")
	require.Equal(t, 0, res.code, res.stderr)
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	said := map[string]string{}
	for _, r := range rows {
		if r["status"] == "unknown" {
			said[r["username"]] = r["message"] + ": " + r["error_message"]
		}
	}
	t.Logf("unknown rows: %v", said)
	maybe := func(what string) string {
		return "the run stopped after the call was started and before its outcome was recorded; the user may have " +
			"received " + what + ". Not called again (use --retry-unknown to call)"
	}
	require.Equal(t, map[string]string{"una": "confirmation: " + maybe("a code"), "adm": "invitation: " + maybe("an invitation"),
		"ada": "invitation: " + maybe("an invitation")}, said)
}

// The operator trial: `run --invitations` without a source was told "--csv: a source is
// required"; the error names --invitations and what it needs.
func TestInvitationsWithoutASource(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dir := t.TempDir()
	res := runBin(t, dir, append(baseEnv("http://127.0.0.1:1"), "COGNITO_CLIENT_ID=client"), "", "run", "--invitations", "--dry-run")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "cognito-resend: --invitations: needs a source, and --user-pool-id in any case: "+
		"--user-pool-id ID alone (the pool's UNCONFIRMED and admin-created users), or --csv FILE / --sqs-queue-url URL "+
		"with --user-pool-id ID --verify-users")
	require.NotContains(t, res.stderr, "--csv: a source is required")
}
