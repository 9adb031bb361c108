package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGCPercent(t *testing.T) {
	t.Parallel()
	const slack = 16 << 20
	require.Equal(t, 100, gcPercent(0, slack))
	require.Equal(t, 400, gcPercent(4<<20, slack), "a small heap grows by the slack too, not by 4 MiB")
	require.Equal(t, 100_000, gcPercent(1<<10, slack), "bounded")
	require.Equal(t, 100, gcPercent(16<<20, slack))
	require.Equal(t, 50, gcPercent(32<<20, slack))
	require.Equal(t, 8, gcPercent(200<<20, slack), "200 MiB live: 16 MiB of garbage, not 200")
	require.Equal(t, 5, gcPercent(4<<30, slack), "never below 5")
}
