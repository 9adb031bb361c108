package campaign

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// How a run ended, as the command will show it (and map it to an exit code).
func TestStopped(t *testing.T) {

	sys := &engine.SystemicError{Code: "NotAuthorizedException", Message: "no secret", Fix: "set it"}
	refused := &pacing.OutageError{Endpoint: "127.0.0.1:1", Cause: "dial tcp 127.0.0.1:1: connect: connection refused",
		For: 2*time.Minute + 300*time.Millisecond}
	c := &Campaign{target: Target{Region: "us-east-1", Endpoint: "http://127.0.0.1:1", Override: true}}
	for _, v := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		t.Setenv(v, "")
	}
	for _, tt := range []struct {
		err        error
		redelivers bool
		want       string // "" = not stopped
	}{
		{nil, false, ""},
		{nil, true, ""},
		{sys, false, "campaign stopped: Cognito answered NotAuthorizedException (no secret); fix: set it"},
		{sys, true, "campaign stopped: Cognito answered NotAuthorizedException (no secret); fix: set it"},
		{engine.ErrInterrupted, false, "campaign interrupted; rows not in the report were not attempted"},
		{engine.ErrInterrupted, true, ""}, // a queue worker's normal end
		{fmt.Errorf("report: %w", errors.New("disk full")), true, "campaign stopped: report: disk full"},
		{refused, false, "campaign stopped: Cognito unreachable: no answer from 127.0.0.1:1 for 2m0s " +
			"(dial tcp 127.0.0.1:1: connect: connection refused); fix: check the endpoint override " +
			"(http://127.0.0.1:1, from AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER or AWS_ENDPOINT_URL), the network path to " +
			"127.0.0.1:1 (firewall, VPC endpoint, NAT) and any proxy (none set); then run again with --resume"},
		{refused, true, "campaign stopped: Cognito unreachable: no answer from 127.0.0.1:1 for 2m0s " +
			"(dial tcp 127.0.0.1:1: connect: connection refused); fix: check the endpoint override " +
			"(http://127.0.0.1:1, from AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER or AWS_ENDPOINT_URL), the network path to " +
			"127.0.0.1:1 (firewall, VPC endpoint, NAT) and any proxy (none set); then run again with --resume"},
		{fmt.Errorf("%w: %w", engine.ErrLedger, errors.New("table t: claim: connection refused")), true,
			"campaign stopped: ledger: table t: claim: connection refused; nobody was called without a durable claim: " +
				"run it again (with --resume for a CSV or pool campaign) once the ledger can be written"},
	} {
		got := c.stopped(tt.err, tt.redelivers)
		if tt.want == "" {
			require.NoError(t, got, "%v redelivers=%v", tt.err, tt.redelivers)
			continue
		}
		require.EqualError(t, got, tt.want)
		if tt.err != nil {
			require.ErrorIs(t, got, tt.err)
		}
	}
}

// The fix for an outage names what to check first for what failed.
func TestOutageFix(t *testing.T) {
	for _, v := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		t.Setenv(v, "")
	}
	aws := &Campaign{target: Target{Region: "eu-west-1x", RegionSource: "AWS_REGION",
		Endpoint: "https://cognito-idp.eu-west-1x.amazonaws.com"}}
	nx := &pacing.OutageError{Endpoint: "cognito-idp.eu-west-1x.amazonaws.com", NoSuchHost: true,
		Cause: "dial tcp: lookup cognito-idp.eu-west-1x.amazonaws.com: no such host"}
	require.Equal(t, `that host name does not exist: check the region ("eu-west-1x" from AWS_REGION); then run again with --resume`,
		aws.outageFix(nx))
	require.EqualError(t, aws.stopped(nx, false), "campaign stopped: Cognito unreachable: "+
		"host name cognito-idp.eu-west-1x.amazonaws.com does not exist (dial tcp: lookup cognito-idp.eu-west-1x.amazonaws.com: no such host); "+
		`fix: that host name does not exist: check the region ("eu-west-1x" from AWS_REGION); then run again with --resume`)

	t.Setenv("HTTPS_PROXY", "http://user:pass@proxy.internal:3128")
	timeout := &pacing.OutageError{Cause: "no answer within --call-timeout", For: time.Minute}
	fix := aws.outageFix(timeout)
	require.Equal(t, `check the region ("eu-west-1x" from AWS_REGION), the network path to it (firewall, VPC endpoint, NAT) `+
		"and any proxy (HTTPS_PROXY is set); then run again with --resume", fix)
	require.NotContains(t, fix, "pass", "a proxy URL may hold credentials: never printed")
}
