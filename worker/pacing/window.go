package pacing

import "time"

// answers counts the controller's answers by the time their attempt started, in slots
// of answerSlot over the last answerSlots × answerSlot (25.6 s: the longest window,
// deepWindowMax, plus the longest answerWait, with room to spare). Adding is O(1); a
// count scans the slots of its window, at most answerSlots, whatever the rate.
type answers struct {
	slots [answerSlots]answerCount
}

type answerCount struct {
	idx    int64 // the slot: start time / answerSlot
	n, thr int64 // answers, of which throttled
	first  int64 // the earliest start in the slot, UnixNano
}

const (
	answerSlot  = 50 * time.Millisecond
	answerSlots = 512
)

func slotOf(t time.Time) int64 { return t.UnixNano() / int64(answerSlot) }

// add counts the answer to an attempt that started at started. An answer older than
// the ring is dropped: no window reaches back that far.
func (a *answers) add(started time.Time, throttled bool) {
	idx := slotOf(started)
	s := &a.slots[uint64(idx)%answerSlots]
	if s.idx != idx {
		if s.n > 0 && idx < s.idx {
			return
		}
		*s = answerCount{idx: idx, first: started.UnixNano()}
	}
	s.n++
	if throttled {
		s.thr++
	}
	s.first = min(s.first, started.UnixNano())
}

// count sums the answers to attempts started after from's slot and before end's: whole
// slots only, so that neither an attempt started before from (say, before a cut) nor one
// whose answer may still be on its way is counted. span runs from the earliest start
// counted to the start of end's slot; it is 0 when nothing was counted. fromThrottle
// starts the count at the first slot with a throttle instead: the moment the bucket was
// seen empty.
func (a *answers) count(from, end time.Time, fromThrottle bool) (n, thr int64, span time.Duration) {
	lo, hi := slotOf(from)+1, slotOf(end)
	lo = max(lo, hi-answerSlots+1)
	first := int64(-1)
	for idx := lo; idx < hi; idx++ {
		s := &a.slots[uint64(idx)%answerSlots]
		if s.idx != idx || s.n == 0 || (fromThrottle && n == 0 && s.thr == 0) {
			continue
		}
		n += s.n
		thr += s.thr
		if first < 0 || s.first < first {
			first = s.first
		}
	}
	if n == 0 {
		return 0, 0, 0
	}
	return n, thr, time.Duration(hi*int64(answerSlot) - first)
}
