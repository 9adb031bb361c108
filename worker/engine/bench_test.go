package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/engine"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
	"github.com/stretchr/testify/require"
)

// Hot-path benchmarks. Run with
//
//	go test -run '^$' -bench . -benchmem ./worker/...
//
// BenchmarkEngine is the engine's own cost per job behind `make bench` line 5.

// benchCSV is n data rows with a header, a metadata column and a quoted field, CRLF.
func benchCSV(n int) []byte {
	rows := make([]string, 0, n+1)
	rows = append(rows, "\ufeffUsername,client_metadata.campaign,note")
	for i := range n {
		rows = append(rows, fmt.Sprintf("user-%07d@example.com,spring,\"a, quoted note\"", i))
	}
	return []byte(strings.Join(rows, "\r\n") + "\r\n")
}

var benchTime = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// instantProcessor answers every job sent at once: the engine's own cost per job.
type instantProcessor struct{}

func (instantProcessor) Send(_, _ context.Context, j job.Job, gate func(int) error) job.Result {
	if gate != nil {
		_ = gate(1) // the benchmark's ledger always wins
	}
	now := benchTime
	return job.Result{Username: j.Username, SourceRef: j.SourceRef, Status: job.StatusSent,
		Attempts: 1, StartedAt: now, FinishedAt: now}
}

// BenchmarkEngine runs CSV → engine (8 workers) → CSV report, with a processor that does
// no I/O: the engine's own cost per job. "file" writes a real report (flush + fsync per
// group); "discard" writes to io.Discard (no fsync), which isolates the group commit;
// "discard+ledger" adds the file ledger's intents (one fsync a group of claims) and its
// outcome step (the row is the outcome); "file+ledger" is `make bench` line 5's durability
// without the SDK: the report and the ledger both on disk (fsync'd), intents an fsync beside
// rows an fsync.
func BenchmarkEngine(b *testing.B) {
	const rows = 20_000
	data := benchCSV(rows)
	for _, sink := range []string{"file", "discard", "discard+ledger", "file+ledger"} {
		b.Run(sink, func(b *testing.B) {
			dir := b.TempDir()
			b.ReportAllocs()
			runs, syncs, ledgerSyncs := 0, 0, int64(0)
			for b.Loop() {
				src, err := csvsource.New(bytes.NewReader(data), csvsource.Options{})
				require.NoError(b, err)
				var rep records.Writer
				if strings.HasPrefix(sink, "file") {
					rep, err = records.OpenReport(fmt.Sprintf("%s/r%d.csv", dir, runs), false)
				} else {
					rep, err = records.NewWriter(io.Discard, records.FormatCSV)
				}
				require.NoError(b, err)
				runs++
				cr := &countingReport{Writer: rep}
				e := &engine.Engine{Source: src, Processor: instantProcessor{}, Report: cr, Workers: 8, Clock: clock.Real()}
				var l *records.IntentLog
				if strings.HasSuffix(sink, "+ledger") {
					l, err = records.OpenLedger(fmt.Sprintf("%s/r%d.csv.ledger", dir, runs), false, clock.Real())
					require.NoError(b, err)
					e.Ledger = l
				}
				sum, err := e.Run(context.Background(), context.Background())
				require.NoError(b, err)
				if l != nil {
					require.NoError(b, l.Close())
					ledgerSyncs += l.Stats().Syncs
				}
				require.NoError(b, rep.Close())
				if sum.Rows != rows {
					b.Fatalf("%d rows", sum.Rows)
				}
				syncs += cr.syncs
			}
			b.ReportMetric(float64(runs*rows)/float64(max(syncs, 1)), "rows/sync")
			if ledgerSyncs > 0 {
				b.ReportMetric(float64(runs*rows)/float64(ledgerSyncs), "intents/sync")
			}
			b.ReportMetric(float64(runs*rows)/b.Elapsed().Seconds(), "jobs/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(runs*rows), "ns/job")
		})
	}
}

// countingReport counts group commits.
type countingReport struct {
	records.Writer
	syncs int
}

func (c *countingReport) Sync() error { c.syncs++; return c.Writer.Sync() }
