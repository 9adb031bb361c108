package csvsource_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/cognito-resend/cognito-resend/worker/source/csvsource"
)

// Hot-path benchmarks. Run with
//
//	go test -run '^$' -bench . -benchmem ./worker/...
//
// benchCSV is n data rows with a header, a metadata column and a quoted field.
func benchCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("\ufeffUsername,client_metadata.campaign,note\r\n")
	for i := range n {
		fmt.Fprintf(&b, "user-%07d@example.com,spring,\"a, quoted note\"\r\n", i)
	}
	return b.Bytes()
}

func BenchmarkCSVSource(b *testing.B) {
	const rows = 10_000
	data := benchCSV(rows)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		src, err := csvsource.New(bytes.NewReader(data), csvsource.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if _, err := src.Next(ctx); err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		if n != rows {
			b.Fatalf("%d rows, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
}
