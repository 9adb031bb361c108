package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The env file loads into a shell with set -a, whatever the values hold.
func TestEnvFileLoadsInAShell(t *testing.T) {
	t.Parallel()
	vars := []envVar{
		{key: "PLAIN", value: "http://127.0.0.1:4566/000000000000/q"},
		{key: "SPACED", value: "/tmp/a dir/users.csv"},
		{key: "QUOTED", value: `it's "$HOME" and \n`},
		{key: "EMPTY", value: ""},
	}
	require.Equal(t, "http://127.0.0.1:4566/000000000000/q", shellQuote(vars[0].value), "no quotes when none are needed")
	path := filepath.Join(t.TempDir(), "x.env")
	require.NoError(t, os.WriteFile(path, []byte(envFile(vars)), 0o644))
	out, err := exec.Command("sh", "-c", `set -a; . "$1"; set +a; sh -c 'printf "%s|%s|%s|%s" "$PLAIN" "$SPACED" "$QUOTED" "${EMPTY-unset}"'`, "sh", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, vars[0].value+"|"+vars[1].value+"|"+vars[2].value+"|", string(out))
}
