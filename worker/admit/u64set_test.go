package admit

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestU64SetMatchesMap drives the table and a Go map with the same random operations,
// with keys chosen to collide (small key space, masked low bits) so probe runs, wrap
// around and backward-shift deletion are all exercised.
func TestU64SetMatchesMap(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		var s u64set
		m := map[uint64]bool{}
		for range 20000 {
			k := r.Uint64N(300) << (r.Uint64N(3) * 20) // clustered low bits
			switch r.IntN(3) {
			case 0, 1:
				require.Equal(t, !m[nonzero(k)], s.add(k))
				m[nonzero(k)] = true
			case 2:
				s.remove(k)
				delete(m, nonzero(k))
			}
			require.Equal(t, len(m), s.n)
		}
		for k := range uint64(300) {
			for sh := range uint64(3) {
				key := k << (sh * 20)
				require.Equal(t, m[nonzero(key)], s.has(key), "seed %d key %d", seed, key)
			}
		}
	}
}

func TestU64SetZeroKey(t *testing.T) {
	t.Parallel()
	var s u64set
	require.False(t, s.has(0))
	s.remove(0)
	require.True(t, s.add(0))
	require.True(t, s.has(0))
	require.False(t, s.add(0))
	s.remove(0)
	require.False(t, s.has(0))
	require.Zero(t, s.n)
}

func BenchmarkSetAdd(b *testing.B) {
	s := NewSet(CaseInsensitive)
	names := make([]string, 4096)
	for i := range names {
		names[i] = "user-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Add(names[i%len(names)])
	}
}
