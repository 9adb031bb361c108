package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// ---- line 4: the naive baseline ----

// lineNaive is what a user would otherwise write: a pool of the same size, no rate
// limit, the SDK's default (standard) retryer, each user sent once and dropped if the
// SDK gives up. Same simulator config and duration as line 1.
func lineNaive(ctx context.Context, o *options) []row {
	const n, name = "4", "naive baseline: unthrottled pool, SDK default retryer"
	dur := scaled(o, 60*time.Second)
	target := "reference (beside line 1)"
	var sent, gaveUp atomic.Int64
	var sentAt, gaveUpAt atomic.Int64 // at the deadline
	res, err := timedRun(ctx, o, "line4", dur, func(url string) ([]*child, error) {
		client := cip.New(cip.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(url),
			// Retryer left nil: the client uses the SDK's default, retry.NewStandard()
			// (3 attempts, exponential backoff, client-side retry quota).
		})
		runCtx, cancel := context.WithTimeout(ctx, dur)
		context.AfterFunc(runCtx, func() { sentAt.Store(sent.Load()); gaveUpAt.Store(gaveUp.Load()) })
		var next atomic.Int64
		var wg sync.WaitGroup
		for range o.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for runCtx.Err() == nil {
					u := "l4-user-" + strconv.FormatInt(next.Add(1), 10)
					_, err := client.ResendConfirmationCode(context.WithoutCancel(runCtx), &cip.ResendConfirmationCodeInput{
						ClientId: aws.String("benchclient"),
						Username: aws.String(u),
					})
					if err != nil {
						gaveUp.Add(1)
					} else {
						sent.Add(1)
					}
				}
			}()
		}
		// timedRun sleeps dur, snapshots and then stops children; the pool stops itself
		// at the same deadline. Its leftovers are waited for in the background.
		go func() { wg.Wait(); cancel() }()
		return nil, nil
	}, time.Second)
	if err != nil {
		return errRow(n, name, target, err)
	}
	w := res.w
	return []row{{n, fmt.Sprintf("%s (%s, %d goroutines, same sim as line 1)", name, dur, o.workers), target,
		fmt.Sprintf("util %.3f, throttled %s (%d/%d calls); users sent %d, given up by the SDK %d",
			w.util(o.q), pct(w.runRatio()), w.throttled, w.calls, sentAt.Load(), gaveUpAt.Load()), "INFO"}}
}
