package admit

import (
	"hash/maphash"
	"sync"
)

// Set is a set of strings (usernames, source refs) stored as 64-bit hashes of their Case
// key in an open-addressing table, so a million keys cost about 16 MB. Safe for
// concurrent use.
type Set struct {
	c    Case
	mu   sync.Mutex
	seed maphash.Seed
	set  u64set
}

// NewSet returns an empty set whose keys compare under c.
func NewSet(c Case) *Set {
	return &Set{c: c, seed: maphash.MakeSeed()}
}

func (s *Set) key(v string) uint64 { return maphash.String(s.seed, s.c.Key(v)) }

// Add records v and reports whether it was new.
func (s *Set) Add(v string) bool {
	k := s.key(v)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.add(k)
}

// Has reports whether v is in the set. A nil set is empty.
func (s *Set) Has(v string) bool {
	if s == nil {
		return false
	}
	k := s.key(v)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.has(k)
}

// Remove forgets v.
func (s *Set) Remove(v string) {
	k := s.key(v)
	s.mu.Lock()
	s.set.remove(k)
	s.mu.Unlock()
}

// Len is the number of keys in the set. A nil set is empty.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.n
}
