package admit

import "math/bits"

// u64set is an open-addressing hash table of 64-bit hashes, each with a 32-bit tag
// (linear probing, backward-shift deletion): 12 bytes a slot. It is the one thing that
// grows with a campaign's size, so it is kept full: up to 7/8 of its slots, and it grows
// by a quarter (any size: a key's home slot is its hash scaled to the table, not masked),
// so it holds 13.7–17.1 bytes a key (a Go map of bare hashes: ~38; a power-of-two table
// at ≤ 3/4: 16–32). Linear probing stays quick that full: a run is read in cache lines,
// and a lookup that misses walks ~30 slots (4 lines of keys) at worst.
// The tag is what a set remembers about a key cheaply: the line of a user's first row,
// the status of a line's last row.
// Not safe for concurrent use. Key 0 is stored as 1 (0 marks an empty slot): the
// collision that adds is as unlikely as any other 64-bit collision.
type u64set struct {
	slots []uint64
	tags  []uint32 // tags[i] belongs to slots[i]
	n     int
}

// u64set's fill: it grows when an add would pass loadNum/loadDen of its slots, to
// growNum/growDen of its size (at least minSlots).
const (
	loadNum, loadDen = 7, 8
	growNum, growDen = 5, 4
	minSlots         = 64
)

func nonzero(k uint64) uint64 {
	if k == 0 {
		return 1
	}
	return k
}

// home is k's first slot: its hash scaled to the table (the top bits, less the shard's).
func (s *u64set) home(k uint64) int {
	hi, _ := bits.Mul64(k<<shardBits, uint64(len(s.slots)))
	return int(hi)
}

// next is the slot after i, wrapping around.
func (s *u64set) next(i int) int {
	if i++; i == len(s.slots) {
		return 0
	}
	return i
}

// find returns k's slot, or -1.
func (s *u64set) find(k uint64) int {
	if s.n == 0 {
		return -1
	}
	k = nonzero(k)
	for i := s.home(k); ; i = s.next(i) {
		switch s.slots[i] {
		case 0:
			return -1
		case k:
			return i
		}
	}
}

// add inserts k with tag and reports whether it was absent; a key present keeps its tag,
// which add returns.
func (s *u64set) add(k uint64, tag uint32) (present uint32, added bool) {
	k = nonzero(k)
	if (s.n+1)*loadDen > len(s.slots)*loadNum {
		s.grow()
	}
	for i := s.home(k); ; i = s.next(i) {
		switch s.slots[i] {
		case 0:
			s.slots[i], s.tags[i] = k, tag
			s.n++
			return 0, true
		case k:
			return s.tags[i], false
		}
	}
}

// put inserts k or replaces its tag.
func (s *u64set) put(k uint64, tag uint32) {
	if i := s.find(k); i >= 0 {
		s.tags[i] = tag
		return
	}
	_, _ = s.add(k, tag)
}

// get returns k's tag and whether k is present.
func (s *u64set) get(k uint64) (uint32, bool) {
	i := s.find(k)
	if i < 0 {
		return 0, false
	}
	return s.tags[i], true
}

func (s *u64set) has(k uint64) bool { return s.find(k) >= 0 }

// remove deletes k, shifting later entries of its probe run back so lookups stay correct.
func (s *u64set) remove(k uint64) {
	i := s.find(k)
	if i < 0 {
		return
	}
	for j := i; ; {
		j = s.next(j)
		if s.slots[j] == 0 {
			break
		}
		home := s.home(s.slots[j])
		// The entry at j may stay only if its home lies cyclically in (i, j].
		if (i < j && i < home && home <= j) || (i > j && (home > i || home <= j)) {
			continue
		}
		s.slots[i], s.tags[i] = s.slots[j], s.tags[j]
		i = j
	}
	s.slots[i], s.tags[i] = 0, 0
	s.n--
}

func (s *u64set) grow() {
	old, oldTags := s.slots, s.tags
	size := max(len(old)*growNum/growDen, minSlots)
	s.slots, s.tags, s.n = make([]uint64, size), make([]uint32, size), 0
	for i, k := range old {
		if k != 0 {
			_, _ = s.add(k, oldTags[i])
		}
	}
}
