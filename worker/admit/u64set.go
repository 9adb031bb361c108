package admit

// u64set is an open-addressing hash table of 64-bit hashes, each with a 32-bit tag
// (linear probing, backward-shift deletion): 12 bytes a slot at ≤ 3/4 load, so 16–32
// bytes a key against ~38 for a Go map of bare hashes — the dedupe set is the one thing
// that grows with a campaign's size. The tag is what a set remembers about a key cheaply:
// the line of a user's first row, the status of a line's last row.
// Not safe for concurrent use. Key 0 is stored as 1 (0 marks an empty slot): the
// collision that adds is as unlikely as any other 64-bit collision.
type u64set struct {
	slots []uint64
	tags  []uint32 // tags[i] belongs to slots[i]
	n     int
}

func nonzero(k uint64) uint64 {
	if k == 0 {
		return 1
	}
	return k
}

func (s *u64set) mask() uint64 { return uint64(len(s.slots) - 1) }

// find returns k's slot, or -1.
func (s *u64set) find(k uint64) int {
	if s.n == 0 {
		return -1
	}
	k = nonzero(k)
	m := s.mask()
	for i := k & m; ; i = (i + 1) & m {
		switch s.slots[i] {
		case 0:
			return -1
		case k:
			return int(i)
		}
	}
}

// add inserts k with tag and reports whether it was absent; a key present keeps its tag,
// which add returns.
func (s *u64set) add(k uint64, tag uint32) (present uint32, added bool) {
	k = nonzero(k)
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	m := s.mask()
	for i := k & m; ; i = (i + 1) & m {
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
	f := s.find(k)
	if f < 0 {
		return
	}
	m := s.mask()
	i := uint64(f)
	for j := i; ; {
		j = (j + 1) & m
		if s.slots[j] == 0 {
			break
		}
		home := s.slots[j] & m
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
	size := max(len(old)*2, 64)
	s.slots, s.tags, s.n = make([]uint64, size), make([]uint32, size), 0
	for i, k := range old {
		if k != 0 {
			_, _ = s.add(k, oldTags[i])
		}
	}
}
