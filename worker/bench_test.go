package worker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/cognito-resend/cognito-resend/worker"
)

// Hot-path benchmarks. Run with
//
//	go test -run '^$' -bench . -benchmem ./worker/
//
// BenchmarkResendInstant and BenchmarkEngine are the per-job costs behind `make bench`
// line 5 (jobs/s against the instant responder); profile them with -cpuprofile.

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
		src, err := worker.NewCSVSource(bytes.NewReader(data))
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

// apiErr wraps a Cognito exception the way the SDK returns it.
func apiErr(err error) error {
	return &smithy.OperationError{ServiceID: "Cognito Identity Provider", OperationName: "ResendConfirmationCode",
		Err: &awshttp.ResponseError{RequestID: "req-1", ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}}, Err: err}}}
}

func BenchmarkClassify(b *testing.B) {
	cases := []struct {
		name string
		err  error
	}{
		{"success", nil},
		{"throttle", apiErr(&types.TooManyRequestsException{Message: aws.String("Too many requests")})},
		{"user-not-found", apiErr(&types.UserNotFoundException{Message: aws.String("Username/client id combination not found.")})},
		{"limit-exceeded", apiErr(&types.LimitExceededException{Message: aws.String("Attempt limit exceeded, please try after some time.")})},
		{"timeout", &smithy.OperationError{Err: context.DeadlineExceeded}},
		{"conn-reset", &smithy.OperationError{Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", errors.New("connection reset by peer"))}}},
		{"unknown-api", apiErr(&smithy.GenericAPIError{Code: "SomethingNew", Message: "?"})},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = worker.Classify(c.err)
			}
		})
	}
}

func benchResult(i int) worker.Result {
	t := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	return worker.Result{
		Username: "user-" + strconv.Itoa(i) + "@example.com", Status: worker.StatusSent, Attempts: 1,
		DeliveryMedium: "EMAIL", Destination: "u***@e***.com", AttributeName: "email",
		RequestID: "3c1d2f0e-1111-4222-8333-444455556666", SourceRef: strconv.Itoa(i + 2),
		StartedAt: t, FinishedAt: t.Add(87 * time.Millisecond),
	}
}

func BenchmarkReportWriter(b *testing.B) {
	rows := make([]worker.Result, 256)
	for i := range rows {
		rows[i] = benchResult(i)
	}
	rows[7].Status, rows[7].ErrorCode, rows[7].ErrorMessage = worker.StatusFailed, "InternalErrorException", "line one\nline two, \"quoted\""
	for _, f := range []worker.ReportFormat{worker.FormatCSV, worker.FormatJSONL} {
		b.Run(string(f), func(b *testing.B) {
			w, err := worker.NewReportWriter(io.Discard, f)
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

// instantProcessor answers every job sent at once: the engine's own cost per job.
type instantProcessor struct{}

func (instantProcessor) Resend(_, _ context.Context, job worker.Job) worker.Result {
	now := time.Now().UTC()
	return worker.Result{Username: job.Username, SourceRef: job.SourceRef, Status: worker.StatusSent,
		Attempts: 1, StartedAt: now, FinishedAt: now}
}

// BenchmarkEngine runs CSV → engine (8 workers) → CSV report, with a processor that does
// no I/O: the engine's own cost per job. "file" writes a real report (flush + fsync per
// group); "discard" writes to io.Discard (no fsync), which isolates the group commit.
func BenchmarkEngine(b *testing.B) {
	const rows = 20_000
	data := benchCSV(rows)
	for _, sink := range []string{"file", "discard"} {
		b.Run(sink, func(b *testing.B) {
			dir := b.TempDir()
			b.ReportAllocs()
			runs, syncs := 0, 0
			for b.Loop() {
				src, err := worker.NewCSVSource(bytes.NewReader(data))
				require.NoError(b, err)
				var rep worker.ReportWriter
				if sink == "file" {
					rep, err = worker.OpenReport(fmt.Sprintf("%s/r%d.csv", dir, runs), false)
				} else {
					rep, err = worker.NewReportWriter(io.Discard, worker.FormatCSV)
				}
				require.NoError(b, err)
				runs++
				cr := &countingReport{ReportWriter: rep}
				e := &worker.Engine{Source: src, Processor: instantProcessor{}, Report: cr, Workers: 8}
				sum, err := e.Run(context.Background(), context.Background())
				require.NoError(b, err)
				require.NoError(b, rep.Close())
				if sum.Rows != rows {
					b.Fatalf("%d rows", sum.Rows)
				}
				syncs += cr.syncs
			}
			b.ReportMetric(float64(runs*rows)/float64(max(syncs, 1)), "rows/sync")
			b.ReportMetric(float64(runs*rows)/b.Elapsed().Seconds(), "jobs/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(runs*rows), "ns/job")
		})
	}
}

// countingReport counts group commits.
type countingReport struct {
	worker.ReportWriter
	syncs int
}

func (c *countingReport) Sync() error { c.syncs++; return c.ReportWriter.Sync() }

// BenchmarkResendInstant is one Resender.Resend through the real SDK client (NopRetryer,
// unsigned) against quotasim's instant responder on loopback, limiter off: the
// per-call cost of the SDK and HTTP stack on both sides.
func BenchmarkResendInstant(b *testing.B) {
	srv := quotasim.StartT(b, quotasim.Config{})
	client := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{}})
	r := &worker.Resender{
		API: client, ClientID: "benchclient", Limiter: worker.NewLimiter(worker.LimiterConfig{Rate: 1e9, Burst: 1000}),
		MaxAttempts: 1, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond, CallTimeout: 10 * time.Second,
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4) // 4 × GOMAXPROCS goroutines, like --workers 8 on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			res := r.Resend(ctx, ctx, worker.Job{Username: "user-" + strconv.Itoa(i)})
			if res.Status != worker.StatusSent {
				b.Errorf("status %s: %s", res.Status, res.ErrorMessage)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}
