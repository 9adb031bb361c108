package records

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// A directory fsync where the platform has one; a no-op on Windows, where it fails.
func TestSyncDir(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing")
	if runtime.GOOS == "windows" {
		require.NoError(t, syncDir(missing), "not even opened")
		require.NotEmpty(t, ModeNote)
		return
	}
	require.NoError(t, syncDir(t.TempDir()))
	require.Error(t, syncDir(missing))
	require.Empty(t, ModeNote)
}
