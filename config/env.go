package config

import (
	"fmt"
	"slices"
	"strings"
)

// EnvPrefix begins the environment variable of every option: --max-attempts is
// COGNITO_RESEND_MAX_ATTEMPTS.
const EnvPrefix = "COGNITO_RESEND_"

// harnessEnv are COGNITO_RESEND_* names the project's test and demo harness reads, not
// options: inherited by the binary from a developer's shell, they are not mistakes.
var harnessEnv = []string{
	"COGNITO_RESEND_TESTENV_DIR", "COGNITO_RESEND_BROWSER", "COGNITO_RESEND_UPDATE_SCREENSHOT",
	"COGNITO_RESEND_LAMBDA_BENCH", "COGNITO_RESEND_LAMBDA_BENCH_Q", "COGNITO_RESEND_LAMBDA_BENCH_LOG_LEVEL",
}

// CheckEnv refuses a COGNITO_RESEND_* variable in environ ("NAME=value" entries) that no
// option reads (known: every option's variable, of every command): a misspelt name
// would otherwise be ignored silently and its option keep its default (a RATTE that
// leaves the rate at 20/s in every environment of a fleet). The error names the nearest
// known variable; COGNITO_RESEND_CLIENT_SECRET gets its own (the secret is
// COGNITO_CLIENT_SECRET). One rule for every command.
func CheckEnv(environ, known []string) error {
	var unknown []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, EnvPrefix) && !slices.Contains(known, name) && !slices.Contains(harnessEnv, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	name := unknown[0]
	if SecretRefusal(strings.TrimPrefix(name, EnvPrefix)) != "" {
		return fmt.Errorf("environment variable %s is not read: the client secret is %s (or a file named by %s)",
			name, EnvClientSecret, EnvClientSecretFile)
	}
	var suffixes []string
	for _, k := range known {
		if s, ok := strings.CutPrefix(k, EnvPrefix); ok {
			suffixes = append(suffixes, s)
		}
	}
	msg := fmt.Sprintf("environment variable %s is not an option's (no command reads it)", name)
	if c := Closest(strings.TrimPrefix(name, EnvPrefix), suffixes); c != "" {
		msg += "; did you mean " + EnvPrefix + c + "?"
	} else {
		msg += "; `cognito-resend run --help` lists each option's variable"
	}
	if len(unknown) > 1 {
		msg += fmt.Sprintf(" (and %d more: %s)", len(unknown)-1, strings.Join(unknown[1:], ", "))
	}
	return fmt.Errorf("%s", msg)
}
