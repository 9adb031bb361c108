package admit

import (
	"hash/maphash"
	"sync"
)

// Set is a set of strings (usernames, source refs) stored as 64-bit hashes of their Case
// key in open-addressing tables, each key with a 32-bit tag (Put, Get: the line of a
// user's first row, the status of a line's last row), so a million keys cost about
// 25 MB. The keys are spread over 16 shards by their top bits: a shard grows on its own,
// so growing never holds two copies of the whole table at once (memory stays flat), and
// concurrent users rarely wait on one lock. Safe for concurrent use.
type Set struct {
	c      Case
	seed   maphash.Seed
	shards [1 << shardBits]shard
}

const shardBits = 4

type shard struct {
	mu  sync.Mutex
	set u64set
}

// NewSet returns an empty set whose keys compare under c.
func NewSet(c Case) *Set {
	return &Set{c: c, seed: maphash.MakeSeed()}
}

// lookup is v's hash and its shard (the table indexes by the low bits, the shard is the
// top ones).
func (s *Set) lookup(v string) (uint64, *shard) {
	k := maphash.String(s.seed, s.c.Key(v))
	return k, &s.shards[k>>(64-shardBits)]
}

// Add records v (tag 0) and reports whether it was new; a key present keeps its tag.
func (s *Set) Add(v string) bool {
	_, added := s.AddTag(v, 0)
	return added
}

// AddTag records v with tag and reports whether it was new; a key present keeps its
// tag, which AddTag returns.
func (s *Set) AddTag(v string, tag uint32) (present uint32, added bool) {
	k, sh := s.lookup(v)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.set.add(k, tag)
}

// Put records v with tag, replacing the tag of a key present.
func (s *Set) Put(v string, tag uint32) {
	k, sh := s.lookup(v)
	sh.mu.Lock()
	sh.set.put(k, tag)
	sh.mu.Unlock()
}

// Get returns v's tag and whether v is in the set. A nil set is empty.
func (s *Set) Get(v string) (tag uint32, ok bool) {
	if s == nil {
		return 0, false
	}
	k, sh := s.lookup(v)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.set.get(k)
}

// Has reports whether v is in the set. A nil set is empty.
func (s *Set) Has(v string) bool {
	_, ok := s.Get(v)
	return ok
}

// Remove forgets v.
func (s *Set) Remove(v string) {
	k, sh := s.lookup(v)
	sh.mu.Lock()
	sh.set.remove(k)
	sh.mu.Unlock()
}

// Len is the number of keys in the set. A nil set is empty.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.set.n
		sh.mu.Unlock()
	}
	return n
}
