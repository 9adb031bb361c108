package cognito_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/cognito"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
)

// Hot-path benchmarks. Run with
//
//	go test -run '^$' -bench . -benchmem ./worker/...
//
// BenchmarkResendInstant is the per-call cost behind `make bench` line 5 (jobs/s
// against the instant responder); profile it with -cpuprofile.

func BenchmarkClassify(b *testing.B) {
	cases := []struct {
		name string
		err  error
	}{
		{"success", nil},
		{"throttle", sdkWrap(&types.TooManyRequestsException{Message: aws.String("Too many requests")}, 400, "req-1")},
		{"user-not-found", sdkWrap(&types.UserNotFoundException{Message: aws.String("Username/client id combination not found.")}, 400, "req-1")},
		{"limit-exceeded", sdkWrap(&types.LimitExceededException{Message: aws.String("Attempt limit exceeded, please try after some time.")}, 400, "req-1")},
		{"timeout", &smithy.OperationError{Err: context.DeadlineExceeded}},
		{"conn-reset", &smithy.OperationError{Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", errors.New("connection reset by peer"))}}},
		{"unknown-api", sdkWrap(&smithy.GenericAPIError{Code: "SomethingNew", Message: "?"}, 400, "req-1")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = cognito.Classify(c.err)
			}
		})
	}
}

// BenchmarkResendInstant is one Resender.Resend through the real SDK client (NopRetryer,
// unsigned) against quotasim's instant responder on loopback, limiter off: the
// per-call cost of the SDK and HTTP stack on both sides.
func BenchmarkResendInstant(b *testing.B) {
	srv := quotasim.StartT(b, quotasim.Config{})
	client := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{}})
	r := &cognito.Resender{
		API: client, ClientID: "benchclient", Limiter: pacing.NewLimiter(pacing.LimiterConfig{Rate: 1e9, Burst: 1000, Clock: clock.Real()}),
		Retry: pacing.Policy{Attempts: 1, Base: time.Millisecond, Max: time.Millisecond}, CallTimeout: 10 * time.Second,
		Clock: clock.Real(),
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4) // 4 × GOMAXPROCS goroutines, like --workers 8 on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			res := r.Send(ctx, ctx, job.Job{Username: "user-" + strconv.Itoa(i)}, nil)
			if res.Status != job.StatusSent {
				b.Errorf("status %s: %s", res.Status, res.ErrorMessage)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}
