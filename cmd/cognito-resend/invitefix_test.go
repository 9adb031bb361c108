package main

import (
	"os/exec"
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
