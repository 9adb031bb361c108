package reportset_test

import (
	"fmt"
	"testing"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/reportset"
)

// Reading a 100 000-row report into a summary (make bench). A million rows took 3.4 s
// of CPU and 274 MB peak RSS on the 2-CPU VM.
func BenchmarkReadSummary(b *testing.B) {
	rows := make([]job.Result, 100_000)
	for i := range rows {
		rows[i] = row(fmt.Sprintf("user%07d", i), job.StatusSent, float64(i)/20)
	}
	rows[7].Status, rows[7].ErrorMessage = job.StatusFailed, `a "quoted", message` // the quoted path too
	p := writeReport(b, b.TempDir(), "r.csv", rows, "")
	b.ResetTimer()
	for b.Loop() {
		set, err := reportset.Read(p)
		if err != nil {
			b.Fatal(err)
		}
		if set.Summary().Users != len(rows) {
			b.Fatal("users")
		}
	}
}
