package records

import (
	"sync"

	"github.com/cognito-resend/cognito-resend/worker/admit"
)

// lineBook is what resume keeps of each line with a row (or an intent): the tag of its
// latest row (tagStatus…) and a fingerprint of its username. It is the part of the
// resume state that grows with the report, so a CSV's lines — numbered from 1, one after
// another — are kept in arrays indexed by their number: 5 bytes a line, in chunks made
// as lines arrive (nothing to grow, nothing copied, no key stored). Any other source ref
// (a pool's usernames, a queue's message ids, a line number that is not canonical) is
// kept in two hash sets (~30 bytes a ref). Safe for concurrent use: a resumed run's
// reader asks about lines while its writer records their rows.
type lineBook struct {
	mu     sync.Mutex
	dense  bool // refs are CSV line numbers
	chunks []*lineChunk
	// calls holds the call count of the dense lines whose count is too big for their
	// tag byte (callsInline): lines retried three times or more.
	calls map[uint32]uint32
	n     int        // dense lines with a row
	tags  *admit.Set // other refs, tagged with their latest row
	fps   *admit.Set // other refs, tagged with their fingerprint
}

const (
	chunkBits  = 16
	chunkLines = 1 << chunkBits
)

// lineChunk holds chunkLines lines: a tag byte (0: no row) and a fingerprint (0: none;
// fingerprint is never 0).
type lineChunk struct {
	tags [chunkLines]uint8
	fps  [chunkLines]uint32
}

// A dense line's tag byte: the status (its index in job.Statuses plus one: at most 15),
// the retry and waiting flags, and the call count up to callsInline (more: l.calls).
const (
	byteStatusMask = 0x0f
	byteRetry      = 0x10
	byteWaiting    = 0x20
	byteCallShift  = 6
	callsInline    = 3
)

func newLineBook(dense bool) *lineBook {
	return &lineBook{dense: dense, tags: admit.NewSet(admit.CaseSensitive), fps: admit.NewSet(admit.CaseSensitive)}
}

// line is ref's chunk and index, or nil when ref is not kept densely. create makes the
// chunk.
func (l *lineBook) line(ref string, create bool) (c *lineChunk, i int, n uint32) {
	if !l.dense {
		return nil, 0, 0
	}
	if n = admit.RefTag(ref); n == 0 {
		return nil, 0, 0
	}
	ci := int(n >> chunkBits)
	if ci >= len(l.chunks) {
		if !create {
			return nil, -1, n
		}
		l.chunks = append(l.chunks, make([]*lineChunk, ci+1-len(l.chunks))...)
	}
	if l.chunks[ci] == nil {
		if !create {
			return nil, -1, n
		}
		l.chunks[ci] = new(lineChunk)
	}
	return l.chunks[ci], int(n & (chunkLines - 1)), n
}

// tag returns the tag of ref's latest row, and whether it has one.
func (l *lineBook) tag(ref string) (uint32, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, i, n := l.line(ref, false)
	switch {
	case c != nil:
		b := c.tags[i]
		if b == 0 {
			return 0, false
		}
		tag := uint32(b&byteStatusMask) | uint32(b>>byteCallShift)<<tagCallShift
		if b&byteRetry != 0 {
			tag |= tagRetry
		}
		if b&byteWaiting != 0 {
			tag |= tagWaiting
		}
		if b>>byteCallShift == callsInline {
			tag = tag&(1<<tagCallShift-1) | l.calls[n]<<tagCallShift
		}
		return tag, true
	case i < 0:
		return 0, false
	}
	return l.tags.Get(ref)
}

// setTag records tag, whose status is never 0, as ref's latest row.
func (l *lineBook) setTag(ref string, tag uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, i, n := l.line(ref, true)
	if c == nil {
		l.tags.Put(ref, tag)
		return
	}
	if c.tags[i] == 0 {
		l.n++
	}
	b := uint8(tag & byteStatusMask)
	if tag&tagRetry != 0 {
		b |= byteRetry
	}
	if tag&tagWaiting != 0 {
		b |= byteWaiting
	}
	calls := tag >> tagCallShift
	if calls >= callsInline {
		if l.calls == nil {
			l.calls = map[uint32]uint32{}
		}
		l.calls[n] = calls
		calls = callsInline
	} else if l.calls != nil {
		delete(l.calls, n)
	}
	c.tags[i] = b | uint8(calls)<<byteCallShift
}

// fingerprint returns the fingerprint of ref's username, and whether it has one.
func (l *lineBook) fingerprint(ref string) (uint32, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, i, _ := l.line(ref, false)
	switch {
	case c != nil:
		return c.fps[i], c.fps[i] != 0
	case i < 0:
		return 0, false
	}
	return l.fps.Get(ref)
}

// setFingerprint records fp, never 0, as ref's username's.
func (l *lineBook) setFingerprint(ref string, fp uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, i, _ := l.line(ref, true); c != nil {
		c.fps[i] = fp
		return
	}
	l.fps.Put(ref, fp)
}

// len is the number of lines with a row.
func (l *lineBook) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n + l.tags.Len()
}
