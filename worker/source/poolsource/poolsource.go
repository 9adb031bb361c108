package poolsource

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Source yields the users of a pool snapshot (List wrote it; Check found it complete),
// one job each, carrying the state the listing gave. It reads the file as it goes: its
// memory does not grow with the pool.
type Source struct {
	r    *snapshotReader
	read atomic.Int64
}

var _ job.Source = (*Source)(nil)

// Open opens the snapshot at path for reading.
func Open(path string) (*Source, error) {
	r, err := openSnapshot(path)
	if err != nil {
		return nil, err
	}
	return &Source{r: r}, nil
}

// Listing is the snapshot's header (its counts are known once Next has returned io.EOF).
func (s *Source) Listing() Listing { return s.r.listing }

// Read is the number of users yielded so far (safe from any goroutine).
func (s *Source) Read() int64 { return s.read.Load() }

// Redelivers is false: the pool is listed once.
func (*Source) Redelivers() bool { return false }

// Next returns the next user of the snapshot; io.EOF after its last. A snapshot cut
// short is an error wrapping ErrIncomplete (Check finds it before a run starts).
func (s *Source) Next(ctx context.Context) (job.Job, error) {
	if err := ctx.Err(); err != nil {
		return job.Job{}, context.Cause(ctx)
	}
	u, err := s.r.next()
	if errors.Is(err, io.EOF) {
		return job.Job{}, io.EOF
	}
	if err != nil {
		return job.Job{}, err
	}
	s.read.Add(1)
	// The listing says whether the user is enabled: the verify stage judges that state
	// (a disabled user gets its `disabled` row) without a call.
	j := job.Job{Username: u.name, SourceRef: u.name, State: &job.UserState{Status: u.status, Enabled: u.on}}
	if reason := admit.ValidateUsername(u.name); reason != "" {
		j.Invalid, j.Username = reason, admit.Printable(u.name)
	}
	return j, nil
}

// Close closes the snapshot.
func (s *Source) Close() { s.r.close() }
