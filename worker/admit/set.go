package admit

import (
	"hash/maphash"
	"sync"
)

// Set is a set of strings (usernames, source refs) stored as 64-bit hashes of their Case
// key in an open-addressing table, each key with a 32-bit tag (Put, Get: the line of a
// user's first row, the status of a line's last row), so a million keys cost about
// 25 MB. Safe for concurrent use.
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

// Add records v (tag 0) and reports whether it was new; a key present keeps its tag.
func (s *Set) Add(v string) bool {
	_, added := s.AddTag(v, 0)
	return added
}

// AddTag records v with tag and reports whether it was new; a key present keeps its
// tag, which AddTag returns.
func (s *Set) AddTag(v string, tag uint32) (present uint32, added bool) {
	k := s.key(v)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.add(k, tag)
}

// Put records v with tag, replacing the tag of a key present.
func (s *Set) Put(v string, tag uint32) {
	k := s.key(v)
	s.mu.Lock()
	s.set.put(k, tag)
	s.mu.Unlock()
}

// Get returns v's tag and whether v is in the set. A nil set is empty.
func (s *Set) Get(v string) (tag uint32, ok bool) {
	if s == nil {
		return 0, false
	}
	k := s.key(v)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.get(k)
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
