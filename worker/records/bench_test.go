package records_test

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
	"github.com/stretchr/testify/require"
)

// Hot-path benchmarks. Run with
//
//	go test -run '^$' -bench . -benchmem ./worker/...
func benchResult(i int) job.Result {
	t := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	return job.Result{
		Username: "user-" + strconv.Itoa(i) + "@example.com", Status: job.StatusSent, Attempts: 1,
		DeliveryMedium: "EMAIL", Destination: "u***@e***.com", AttributeName: "email",
		RequestID: "3c1d2f0e-1111-4222-8333-444455556666", SourceRef: strconv.Itoa(i + 2),
		StartedAt: t, FinishedAt: t.Add(87 * time.Millisecond),
	}
}

func BenchmarkReportWriter(b *testing.B) {
	rows := make([]job.Result, 256)
	for i := range rows {
		rows[i] = benchResult(i)
	}
	rows[7].Status, rows[7].ErrorCode, rows[7].ErrorMessage = job.StatusFailed, "InternalErrorException", "line one\nline two, \"quoted\""
	for _, f := range []records.Format{records.FormatCSV, records.FormatJSONL} {
		b.Run(string(f), func(b *testing.B) {
			w, err := records.NewWriter(io.Discard, f)
			require.NoError(b, err)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := w.Write(rows[i%len(rows)]); err != nil {
					b.Fatal(err)
				}
				if i++; i%256 == 0 { // the engine's group commit
					if err := w.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			}
			require.NoError(b, w.Close())
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
