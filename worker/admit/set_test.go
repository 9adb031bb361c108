package admit_test

import (
	"strconv"
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

func TestSetTags(t *testing.T) {
	t.Parallel()

	s := admit.NewSet(admit.CaseInsensitive)
	_, added := s.AddTag("Alice", 12)
	require.True(t, added)
	present, added := s.AddTag("alice", 40)
	require.False(t, added)
	require.Equal(t, uint32(12), present, "a key present keeps its tag")
	tag, ok := s.Get("ALICE")
	require.True(t, ok)
	require.Equal(t, uint32(12), tag)
	s.Put("alice", 3)
	tag, _ = s.Get("Alice")
	require.Equal(t, uint32(3), tag)
	s.Put("bob", 9)
	require.Equal(t, 2, s.Len())
	_, ok = s.Get("carol")
	require.False(t, ok)
	var none *admit.Set
	_, ok = none.Get("x")
	require.False(t, ok, "a nil set is empty")
}

// Many keys across every shard: each is found with its tag, and removed.
func TestSetManyKeys(t *testing.T) {
	t.Parallel()

	s := admit.NewSet(admit.CaseSensitive)
	const n = 20000
	for i := range n {
		_, added := s.AddTag(strconv.Itoa(i), uint32(i))
		require.True(t, added)
	}
	require.Equal(t, n, s.Len())
	for i := range n {
		tag, ok := s.Get(strconv.Itoa(i))
		require.True(t, ok)
		require.Equal(t, uint32(i), tag)
	}
	for i := 0; i < n; i += 2 {
		s.Remove(strconv.Itoa(i))
	}
	require.Equal(t, n/2, s.Len())
	for i := range n {
		require.Equal(t, i%2 == 1, s.Has(strconv.Itoa(i)), i)
	}
}
