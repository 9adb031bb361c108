package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

var cognitoResendEnvRE = regexp.MustCompile(`\bCOGNITO_RESEND_[A-Z0-9_]+\b`)

// Every COGNITO_RESEND_* name the deploy manifests set (the Deployment, Jobs, CronJob,
// ConfigMap, the CloudFormation stacks, the Lambda template, the Dockerfile) is one the
// binary reads: the binary refuses an unknown one at start (config.CheckEnv), so a name
// here it does not know would stop every pod and every cold start.
func TestDeployEnvNamesAreKnownToTheBinary(t *testing.T) {
	require.NoError(t, helpErr, "building the binary")
	var files []string
	for _, g := range []string{"kubernetes/*.yaml", "cloudformation/*.yaml", "lambda/*.yaml", "Dockerfile"} {
		m, err := filepath.Glob(g)
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files)
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		names = append(names, cognitoResendEnvRE.FindAllString(string(b), -1)...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	require.Contains(t, names, "COGNITO_RESEND_LEDGER_TABLE", "the scan found the manifests' variables")
	for _, n := range names {
		cmd := exec.Command(binaryPath, "version")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), n + "=x"}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s is set by a manifest but the binary refuses it: %s", n, out)
	}
	t.Logf("%d names: %v", len(names), names)
}
