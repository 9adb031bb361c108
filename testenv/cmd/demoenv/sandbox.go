package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printSandbox tells a person what is running and how to use it: the servers,
// the export lines to paste, the users and example commands.
func printSandbox(w io.Writer, o options, e *environment) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("cognito-resend sandbox: local emulators on 127.0.0.1, in memory, fresh on every start.")
	p("Files in %s (kept after exit).", o.dir)
	p("")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  quota simulator\t%s\tCognito's quota (preset %s: %s) in front of cognito-local; per-user counters: %s/__sim/stats\n",
		e.sim.URL, o.simPreset, simSummary(e), e.sim.URL)
	fmt.Fprintf(tw, "  cognito-local\t%s\tuser pools; every code it sends is in %s\n", e.cognito.Endpoint, e.cognito.LogFile)
	fmt.Fprintf(tw, "  fauxqs\t%s\tSQS\n", e.sqs.Endpoint)
	fmt.Fprintf(tw, "  dynalite\t%s\tDynamoDB, no tables yet\n", e.dynamo.Endpoint)
	_ = tw.Flush()
	p("")
	p("Paste into another shell, or load the same from a file: set -a; . %s; set +a", shellQuote(o.envFile))
	p("")
	// Notes line up after the export lines, except after the longest ones.
	const noteCol = 64
	for _, v := range envVars(o, e) {
		line := "export " + v.key + "=" + shellQuote(v.value)
		if v.note != "" {
			line += strings.Repeat(" ", max(2, noteCol-len(line))) + "# " + v.note
		}
		p("%s", line)
	}
	p("")
	p("Pool demo-pool ($COGNITO_USER_POOL_ID):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range []struct {
		names []string
		state string
	}{
		{e.users.unconfirmed, "UNCONFIRMED: a code is due"},
		{e.users.confirmed, "CONFIRMED: nothing to do"},
		{e.users.adminCreated, "FORCE_CHANGE_PASSWORD: admin-created, needs AdminCreateUser RESEND instead (--invitations)"},
		{e.users.invitees, "FORCE_CHANGE_PASSWORD: admin-created, never invited, not in the CSV (--invitations)"},
		{e.users.disabled, "UNCONFIRMED but disabled"},
	} {
		if len(row.names) > 0 {
			fmt.Fprintf(tw, "  %s\t%s\n", span(row.names), row.state)
		}
	}
	_ = tw.Flush()
	p("$USERS_CSV has all of them, then a duplicate, %s (not in the pool) and two invalid names.", unknownUser)
	p("Queue %s sends a message to its DLQ after %d receives.", queueName, maxReceive)
	if e.dynamo != nil {
		p("$LEDGER_TABLE names a DynamoDB ledger table on dynalite, not created yet: `ledger init`")
		p("creates it; then --ledger-table \"$LEDGER_TABLE\" shares claims between runs and replicas.")
	}
	p("")
	p("Try, from the repository root (make sandbox built bin/cognito-resend; run asks before it sends):")
	p(`  bin/cognito-resend run --csv "$USERS_CSV" --dry-run`)
	p(`  bin/cognito-resend run --csv "$USERS_CSV" --report "$SANDBOX_DIR/report.csv"`)
	p(`  bin/cognito-resend run --user-pool-id "$COGNITO_USER_POOL_ID" --report "$SANDBOX_DIR/pool-report.csv"`)
	p(`  bin/cognito-resend run --user-pool-id "$COGNITO_USER_POOL_ID" --invitations --invitation-delivery EMAIL \`)
	p(`      --report "$SANDBOX_DIR/invite-report.csv"`)
	p(`  bin/cognito-resend enqueue --csv "$USERS_CSV" --sqs-queue-url "$SQS_QUEUE_URL"`)
	p(`  bin/cognito-resend run --sqs-queue-url "$SQS_QUEUE_URL" --exit-when-empty --wait-time-seconds 1 \`)
	p(`      --report "$SANDBOX_DIR/queue-report.csv"`)
	if e.dynamo != nil {
		p(`  bin/cognito-resend ledger init --ledger-table "$LEDGER_TABLE"`)
		p(`  bin/cognito-resend run --csv "$USERS_CSV" --ledger-table "$LEDGER_TABLE" --report "$SANDBOX_DIR/ledger-report.csv"`)
	}
	p(`  curl -s "$QUOTASIM_URL/__sim/stats"                                   # calls per user`)
	p(`  curl -s -X PUT -d '{"rate":2,"burst":1}' "$QUOTASIM_URL/__sim/config"   # tighter quota: throttling`)
	p("")
	p("Ctrl-C here (or closing this terminal) stops everything.")
}

// simSummary describes the simulator's quota, e.g. "30/s, burst 30".
func simSummary(e *environment) string {
	if e.simCfg.Rate <= 0 {
		return "no limit"
	}
	burst := e.simCfg.Burst
	if burst <= 0 {
		burst = max(1, int(e.simCfg.Rate+0.999999))
	}
	return fmt.Sprintf("%g/s, burst %d", e.simCfg.Rate, burst)
}

// span names a list of users briefly: "demo-user-011 .. demo-user-050 (40)".
func span(names []string) string {
	switch len(names) {
	case 0:
		return "(none)"
	case 1:
		return names[0]
	}
	return fmt.Sprintf("%s .. %s (%d)", names[0], names[len(names)-1], len(names))
}
