package reportset

import (
	"slices"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// What a row can say about time: it has started_at (the first attempt began) and
// finished_at (the last attempt ended), its final status, its attempt count and its last
// error code. It does not say when its earlier attempts ran or how each ended. So the
// timeline counts rows by the second of their finished_at: a send is a `sent` row; a
// throttled row is one whose last error is TooManyRequestsException or that took more than
// one attempt (its earlier attempts were throttled or faulted: the row can't say which).

// ThrottleCode is the error code of Cognito's rate limit.
const ThrottleCode = "TooManyRequestsException"

// counts are the rows that finished in one second (or bucket).
type counts struct {
	Rows      int // rows finished
	Sent      int // `sent` rows finished
	Throttled int // rows throttled or retried (see above)
	Retries   int // attempts beyond the first, summed over the rows
}

func (c *counts) add(r job.Result) {
	c.Rows++
	if r.Status == job.StatusSent {
		c.Sent++
	}
	if r.ErrorCode == ThrottleCode || r.Attempts > 1 {
		c.Throttled++
	}
	if r.Attempts > 1 {
		c.Retries += r.Attempts - 1
	}
}

// Bucket is one interval of the timeline.
type Bucket struct {
	Start time.Time
	Width time.Duration
	counts
}

// SentPerSecond is the bucket's `sent` rows per second.
func (b Bucket) SentPerSecond() float64 { return float64(b.Sent) / b.Width.Seconds() }

// bucketWidths are the widths a timeline picks from: the smallest that gives at most the
// number of buckets asked for.
var bucketWidths = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// Timeline is every row by its finished_at, in at most maxBuckets equal buckets of a
// round width (1s, 2s, 5s … 1h … 1 day; the last width when even that is too many), from
// the second of the first finished row to the last. Empty buckets are included.
func (s *Set) Timeline(maxBuckets int) []Bucket {
	if len(s.seconds) == 0 {
		return nil
	}
	secs := make([]int64, 0, len(s.seconds))
	for sec := range s.seconds {
		secs = append(secs, sec)
	}
	slices.Sort(secs)
	lo, hi := secs[0], secs[len(secs)-1]
	width := bucketWidths[len(bucketWidths)-1]
	for _, w := range bucketWidths {
		if (hi-lo)/int64(w.Seconds())+1 <= int64(max(maxBuckets, 1)) {
			width = w
			break
		}
	}
	ws := int64(width.Seconds())
	start := lo - lo%ws // round widths align on the clock
	buckets := make([]Bucket, (hi-start)/ws+1)
	for i := range buckets {
		buckets[i] = Bucket{Start: time.Unix(start+int64(i)*ws, 0).UTC(), Width: width}
	}
	for _, sec := range secs {
		b := &buckets[(sec-start)/ws]
		c := s.seconds[sec]
		b.Rows += c.Rows
		b.Sent += c.Sent
		b.Throttled += c.Throttled
		b.Retries += c.Retries
	}
	return buckets
}
