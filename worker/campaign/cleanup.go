package campaign

import (
	"context"
	"errors"
)

// cleanup is a run's one stack of closers: each part assemble opens registers its close
// as soon as it is open, and unwind closes them once, in reverse order — after the engine
// has stopped, and also when the assembly fails halfway (a usage error: nothing was
// called) — joining their errors once.
type cleanup struct {
	steps []cleanupStep
	// trace, when set (tests), sees each step's name as it is closed.
	trace func(name string)
}

type cleanupStep struct {
	name  string
	close func(ctx context.Context) error
}

// push registers the close of a part just opened. A close returns the errors the run
// must report; one that only warns logs its error and returns nil.
func (s *cleanup) push(name string, close func(ctx context.Context) error) {
	s.steps = append(s.steps, cleanupStep{name: name, close: close})
}

// unwind closes every registered part, the last opened first, each once (a second unwind
// closes nothing), and joins their errors. ctx bounds the network calls a close makes (a
// queue's deletes, leaving the fleet): the settle budget after a run.
func (s *cleanup) unwind(ctx context.Context) error {
	var errs []error
	for len(s.steps) > 0 {
		step := s.steps[len(s.steps)-1]
		s.steps = s.steps[:len(s.steps)-1]
		if s.trace != nil {
			s.trace(step.name)
		}
		errs = append(errs, step.close(ctx))
	}
	return errors.Join(errs...)
}
