package main

import (
	"regexp"
	"strings"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
)

// envVar is one variable of the env file and the sandbox's export lines.
type envVar struct {
	key, value string
	note       string // shown after the export line
}

// envVars lists the variables that point cognito-resend (and a shell) at what
// run started. Variables the binary reads come first; SQS_QUEUE_URL and the
// others after them are for the example commands (the binary's own
// COGNITO_RESEND_SQS_QUEUE_URL or COGNITO_RESEND_CSV would pick its source for
// every command).
func envVars(o options, e *environment) []envVar {
	cognitoNote := "cognito-local"
	if e.sim != nil {
		cognitoNote = "the quota simulator, in front of cognito-local"
	}
	vars := []envVar{{"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", e.cognitoEndpoint(), cognitoNote}}
	if e.sqs != nil {
		vars = append(vars, envVar{"AWS_ENDPOINT_URL_SQS", e.sqs.Endpoint, "fauxqs"})
	}
	if e.dynamo != nil {
		vars = append(vars, envVar{emu.EnvDynamoEndpoint, e.dynamo.Endpoint, "dynalite"})
	}
	vars = append(vars,
		envVar{"AWS_REGION", emu.Region, ""},
		envVar{"AWS_ACCESS_KEY_ID", emu.AccessKeyID, "dummy: the emulators check no signature"},
		envVar{"AWS_SECRET_ACCESS_KEY", emu.SecretAccessKey, "dummy"},
		envVar{"COGNITO_CLIENT_ID", e.pool.ClientID, "app client (with a secret)"},
	)
	if o.secretFile != "" {
		vars = append(vars, envVar{"COGNITO_RESEND_CLIENT_SECRET_FILE", o.secretFile, "= --client-secret-file; the secret is only in this file (0600)"})
	}
	vars = append(vars, envVar{"COGNITO_USER_POOL_ID", e.pool.ID, "for --user-pool-id"})
	if e.sqs != nil {
		vars = append(vars,
			envVar{"SQS_QUEUE_URL", e.queueURL, "for --sqs-queue-url"},
			envVar{"SQS_DLQ_URL", e.dlqURL, "its dead-letter queue"})
	}
	if o.csvFile != "" {
		vars = append(vars, envVar{"USERS_CSV", o.csvFile, "for --csv"})
	}
	if e.dynamo != nil {
		vars = append(vars, envVar{"LEDGER_TABLE", ledgerTable, "a name for --ledger-table; not created"})
	}
	if e.sim != nil {
		vars = append(vars, envVar{"QUOTASIM_URL", e.sim.URL, "per-user counters at $QUOTASIM_URL/__sim/stats"})
	}
	if o.dir != "" {
		vars = append(vars, envVar{"SANDBOX_DIR", o.dir, ""})
	}
	return vars
}

// envFile is KEY=VALUE lines, for `set -a; . FILE; set +a`.
func envFile(vars []envVar) string {
	var b strings.Builder
	b.WriteString("# cognito-resend local environment. Load into a shell with: set -a; . FILE; set +a\n")
	for _, v := range vars {
		b.WriteString(v.key + "=" + shellQuote(v.value) + "\n")
	}
	return b.String()
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]*$`)

// shellQuote quotes s for a POSIX shell unless it needs no quoting.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
