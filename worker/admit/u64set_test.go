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
		m := map[uint64]uint32{} // key → tag
		for range 20000 {
			k := r.Uint64N(300) << (r.Uint64N(3) * 20) // clustered low bits
			tag := r.Uint32()
			switch r.IntN(4) {
			case 0:
				old, had := m[nonzero(k)]
				present, added := s.add(k, tag)
				require.Equal(t, !had, added)
				require.Equal(t, old, present)
				if !had {
					m[nonzero(k)] = tag
				}
			case 1:
				s.put(k, tag)
				m[nonzero(k)] = tag
			case 2, 3:
				s.remove(k)
				delete(m, nonzero(k))
			}
			require.Equal(t, len(m), s.n)
		}
		for k := range uint64(300) {
			for sh := range uint64(3) {
				key := k << (sh * 20)
				want, had := m[nonzero(key)]
				require.Equal(t, had, s.has(key), "seed %d key %d", seed, key)
				got, ok := s.get(key)
				require.Equal(t, had, ok)
				require.Equal(t, want, got, "seed %d key %d: its tag moved with it", seed, key)
			}
		}
	}
}

func TestU64SetZeroKey(t *testing.T) {
	t.Parallel()
	var s u64set
	require.False(t, s.has(0))
	s.remove(0)
	_, added := s.add(0, 7)
	require.True(t, added)
	require.True(t, s.has(0))
	present, added := s.add(0, 8)
	require.False(t, added)
	require.Equal(t, uint32(7), present)
	tag, ok := s.get(0)
	require.True(t, ok)
	require.Equal(t, uint32(7), tag, "add keeps the tag of a key present")
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

// TestU64SetStaysFull: the table is what grows with a campaign, so it is kept between
// 7/10 and 7/8 full (12-byte slots: 13.7-17.1 bytes a key) at every size past its first.
func TestU64SetStaysFull(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var s u64set
	for n := 1; n <= 300_000; n++ {
		s.add(r.Uint64(), 0)
		if len(s.slots) <= minSlots {
			continue
		}
		load := float64(s.n) / float64(len(s.slots))
		require.LessOrEqual(t, load, 7.0/8, "n %d: %d slots", n, len(s.slots))
		require.GreaterOrEqual(t, load, 0.69, "n %d: %d slots", n, len(s.slots))
	}
}
