package records_test

import (
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// jobList is a finite source over a slice.
type jobList struct {
	job.Source
	jobs chan job.Job
}

func newJobList(jobs []job.Job) *jobList {
	c := make(chan job.Job, len(jobs))
	for _, j := range jobs {
		c <- j
	}
	close(c)
	return &jobList{jobs: c}
}

func (l *jobList) Next(ctx context.Context) (job.Job, error) {
	if j, ok := <-l.jobs; ok {
		return j, nil
	}
	return job.Job{}, io.EOF
}

// sender answers every job sent.
type sender struct{}

func (sender) Send(_, _ context.Context, j job.Job, gate func(int) error) job.Result {
	if gate != nil {
		if err := gate(1); err != nil {
			return job.Result{Username: j.Username, SourceRef: j.SourceRef, Class: job.ClassCanceled}
		}
	}
	return sent(j)
}

// The engine acks a job only once its row is durable, rotations included: at each ack
// the row is on disk in one of the files.
func TestEngineWithRotatingReportAcksDurableRows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	w, err := records.OpenReport(path, false)
	require.NoError(t, err)
	l, err := records.OpenLedger(records.LedgerPath(path), false, clock.Real())
	require.NoError(t, err)
	rr, err := records.NewRotatingReport(path, w, records.RotateOptions{MaxSize: 2048, Keep: 1000, Journal: l, Clock: clock.Real()})
	require.NoError(t, err)

	const n = 500
	onDisk := func() map[string]bool {
		m := map[string]bool{}
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			if filepath.Ext(e.Name()) != ".csv" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
			require.NoError(t, err)
			for _, r := range recs[1:] {
				m[r[9]] = true
			}
		}
		return m
	}
	var mu sync.Mutex
	acked := 0
	var jobs []job.Job
	for i := range n {
		j := rotJob(i)
		j.Ack = func(context.Context, job.Result) error {
			require.True(t, onDisk()[j.SourceRef], "acked before its row is on disk: %s", j.SourceRef)
			mu.Lock()
			acked++
			mu.Unlock()
			return nil
		}
		jobs = append(jobs, j)
	}
	e := &engine.Engine{Source: newJobList(jobs), Processor: sender{}, Report: rr,
		Workers: 8, Ledger: l, BatchSize: 16, Clock: clock.Real()}
	sum, err := e.Run(context.Background(), context.Background())
	require.NoError(t, err)
	require.Equal(t, n, sum.Rows)
	require.Equal(t, n, acked)
	require.NoError(t, l.Close())
	require.NoError(t, rr.Close())
	require.Positive(t, rr.Rotations())
	require.Len(t, onDisk(), n)
	total := 0
	for _, p := range pairs(t, dir, path) {
		total += len(p.rows)
	}
	require.Equal(t, n, total, "every row exactly once")
}
