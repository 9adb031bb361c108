package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The docs are copied into shells: an example must never carry a real-looking AWS
// account id or a concrete AWS endpoint, only placeholders (ACCOUNT_ID, REGION) or
// variables ("$QUEUE_URL").
var (
	accountID = regexp.MustCompile(`(^|[^0-9A-Za-z])[0-9]{12}([^0-9A-Za-z]|$)`)
	awsHost   = regexp.MustCompile(`[A-Za-z0-9.-]*\.amazonaws\.com`)
)

func TestDocsNameNoAccountOrAWSHost(t *testing.T) {
	t.Parallel()
	files := []string{filepath.Join(repoRoot, "README.md"), filepath.Join(repoRoot, "BENCHMARKS.md"), "README.md"}
	more, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	files = append(files, more...)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, line := range strings.Split(string(b), "\n") {
			require.Falsef(t, accountID.MatchString(line), "%s:%d names an account id: %s", f, i+1, line)
			for _, h := range awsHost.FindAllString(line, -1) {
				require.Truef(t, strings.Contains(h, "REGION") || strings.HasPrefix(h, "ACCOUNT_ID.") || h == ".amazonaws.com",
					"%s:%d names a concrete AWS host %q (use REGION / ACCOUNT_ID placeholders or a variable)", f, i+1, h)
			}
		}
	}
}
