package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestETARoundsUpToWholeSeconds(t *testing.T) {
	t.Parallel()
	require.Equal(t, "3s", eta(51, 20).String())
	require.Equal(t, "2s", eta(3, 2).String())
	require.Equal(t, "0s", eta(0, 20).String())
	require.Equal(t, "1m0s", eta(1200, 20).String())
}
