package admit_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/admit"
)

func TestSetCaseInsensitive(t *testing.T) {
	t.Parallel()

	s := admit.NewSet(admit.CaseInsensitive)
	require.Equal(t, 0, s.Len())
	require.True(t, s.Add("Alice"))
	require.False(t, s.Add("alice"))
	require.False(t, s.Add("ALICE"))
	require.True(t, s.Add("bob"))
	require.Equal(t, 2, s.Len())
	s.Remove("aLiCe")
	require.Equal(t, 1, s.Len())
	require.True(t, s.Add("alice"))
	s.Remove("nobody")
	require.Equal(t, 2, s.Len())
}

func TestSetCaseSensitive(t *testing.T) {
	t.Parallel()

	s := admit.NewSet(admit.CaseSensitive)
	require.True(t, s.Add("Alice"))
	require.True(t, s.Add("alice"))
	require.True(t, s.Has("Alice"))
	require.False(t, s.Has("ALICE"))
	var none *admit.Set
	require.False(t, none.Has("x"), "a nil set is empty")
	require.Zero(t, none.Len())
}
