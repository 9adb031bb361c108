package campaign

import (
	"context"
	"errors"
	"os"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// resumed is what earlier runs of the campaign left, as this run uses it: loaded once,
// for the census and the run alike.
type resumed struct {
	state *records.ResumeState // nil: nothing to resume (a fresh campaign)
	// unknown are the rows of intents without an outcome, recorded first by the engine
	// (none with --retry-unknown: those users are called again).
	unknown []job.Result
}

// resume loads the resume state the first time it is asked for, for a source that
// redelivers or not (the rows that make a user final differ, see
// records.ResumeOptions): nothing without --resume, or when the report does not exist
// yet (the campaign starts: a retried Job with --resume on a persistent volume is safe
// from its very first run). Users left unknown are not to be called unless
// --retry-unknown: their users and lines count as done, and their rows are recorded.
func (c *Campaign) resume(redelivers bool) (*resumed, error) {
	if c.resumed != nil {
		return c.resumed, nil
	}
	r := &resumed{}
	if c.cfg.Resume {
		if _, err := os.Stat(c.reportPath); !errors.Is(err, os.ErrNotExist) {
			st, err := records.LoadResume(c.reportPath, records.ResumeOptions{
				RetryUnknown: c.cfg.RetryUnknown, RetryFailed: c.cfg.RetryFailed, Now: c.clock.Now(),
				Redelivers: redelivers, Case: c.rule.Case})
			if err != nil {
				return nil, err
			}
			r.state = st
			if !c.cfg.RetryUnknown {
				for _, u := range st.Unknown {
					row := records.UnknownResult(u, c.clock)
					st.Record(row) // settles its line and user now; recording it again when written changes nothing
					r.unknown = append(r.unknown, row)
				}
			}
		}
	}
	c.resumed = r
	return r, nil
}

// skipDone wraps a source and drops the jobs whose row an earlier run already wrote.
type skipDone struct {
	job.Source
	done func(ref string) bool
}

// Next returns the next job without a row that settles it.
func (s *skipDone) Next(ctx context.Context) (job.Job, error) {
	for {
		j, err := s.Source.Next(ctx)
		if err != nil || !s.done(j.SourceRef) {
			return j, err
		}
	}
}

// skipRecorded makes a finite source (CSV lines, pool users) skip what already has a
// row that settles it (records.ResumeState.Done: not a line --retry-failed or
// --retry-unknown calls again). A source that redelivers is left alone: its repeats are
// settled by the admit rule (duplicates of users with a final row).
func (r *resumed) skipRecorded(src *source) {
	if r.state != nil && !src.Redelivers() {
		src.Source = &skipDone{Source: src.Source, done: r.state.Done}
	}
}

// retrying reports whether a job's line had a row and is called again (--retry-failed,
// --retry-unknown).
func (r *resumed) retrying(ref string) bool {
	return r.state != nil && r.state.Retrying(ref)
}

// final is the users earlier runs finished (nil: none).
func (r *resumed) final() *admit.Set {
	if r.state == nil {
		return nil
	}
	return r.state.Final
}
