package admit

// u64set is an open-addressing hash set of 64-bit hashes (linear probing, backward-shift
// deletion): 8 bytes a slot at ≤ 3/4 load, so 11–21 bytes a key against ~38 for a Go
// map — the dedupe set is the one thing that grows with a campaign's size.
// Not safe for concurrent use. Key 0 is stored as 1 (0 marks an empty slot): the
// collision that adds is as unlikely as any other 64-bit collision.
type u64set struct {
	slots []uint64
	n     int
}

func nonzero(k uint64) uint64 {
	if k == 0 {
		return 1
	}
	return k
}

func (s *u64set) mask() uint64 { return uint64(len(s.slots) - 1) }

// add inserts k and reports whether it was absent.
func (s *u64set) add(k uint64) bool {
	k = nonzero(k)
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	m := s.mask()
	for i := k & m; ; i = (i + 1) & m {
		switch s.slots[i] {
		case 0:
			s.slots[i] = k
			s.n++
			return true
		case k:
			return false
		}
	}
}

func (s *u64set) has(k uint64) bool {
	if s.n == 0 {
		return false
	}
	k = nonzero(k)
	m := s.mask()
	for i := k & m; ; i = (i + 1) & m {
		switch s.slots[i] {
		case 0:
			return false
		case k:
			return true
		}
	}
}

// remove deletes k, shifting later entries of its probe run back so lookups stay correct.
func (s *u64set) remove(k uint64) {
	if s.n == 0 {
		return
	}
	k = nonzero(k)
	m := s.mask()
	i := k & m
	for ; s.slots[i] != k; i = (i + 1) & m {
		if s.slots[i] == 0 {
			return
		}
	}
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
		s.slots[i] = s.slots[j]
		i = j
	}
	s.slots[i] = 0
	s.n--
}

func (s *u64set) grow() {
	old := s.slots
	size := max(len(old)*2, 64)
	s.slots, s.n = make([]uint64, size), 0
	for _, k := range old {
		if k != 0 {
			s.add(k)
		}
	}
}
