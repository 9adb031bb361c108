package campaign

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// outageFix is the remedy printed when the breaker gives up on Cognito: what to check,
// in the order most likely to be wrong for what failed.
func (c *Campaign) outageFix(e *pacing.OutageError) string {
	t := c.target
	region := fmt.Sprintf("the region (%q", t.Region)
	if t.RegionSource != "" {
		region += " from " + t.RegionSource
	}
	region += ")"
	where := region
	if t.Override {
		where = fmt.Sprintf("the endpoint override (%s, from AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER or AWS_ENDPOINT_URL)", t.Endpoint)
	}
	if e.NoSuchHost {
		return "that host name does not exist: check " + where + "; then run again with --resume"
	}
	proxy := "none set"
	for _, v := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		if os.Getenv(v) != "" {
			proxy = v + " is set"
			break
		}
	}
	return fmt.Sprintf("check %s, the network path to %s (firewall, VPC endpoint, NAT) and any proxy (%s); "+
		"then run again with --resume", where, cmp.Or(e.Endpoint, "it"), proxy)
}

// watchOutage makes b give up after --max-outage without an answer (or at once on a
// host name that does not exist), ending the run with its OutageError. A queue worker
// outlasts the outage instead (guardQueue): only a host name that does not exist ends it.
func (c *Campaign) watchOutage(b *pacing.Breaker, abort context.CancelCauseFunc) {
	b.MaxOutage, b.Endpoint, b.Logger, b.Clock = c.cfg.MaxOutage, hostOf(c.target.Endpoint), c.log, c.clock
	b.OnOutage = func(e *pacing.OutageError) { abort(e) }
}

// outageSeconds is cognito_outage_seconds: how long b has seen nothing but faults.
func (c *Campaign) outageSeconds(b *pacing.Breaker) func() float64 {
	return func() float64 {
		since, _ := b.Fault()
		if since.IsZero() {
			return 0
		}
		return c.clock.Since(since).Seconds()
	}
}

// hostOf is the host[:port] of an endpoint URL.
func hostOf(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	return u.Host
}
