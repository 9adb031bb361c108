package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// ---- line 10: the live application beside one campaign with --reserve ----

const (
	liveShare    = 0.25 // the live client's mean rate, × Q
	reserveShare = 0.10 // --reserve, × Q
	liveSeed     = 11
)

// lineLive runs the account's own application (quotasim's live client: Poisson arrivals
// at 25 % of Q, each call made once) beside one campaign `--rate Q --reserve 0.1Q`.
// Without --reserve in the binary the campaign runs without it and the line is n/a.
func lineLive(ctx context.Context, o *options) []row {
	const n = "10"
	dur, warm := scaled(o, 60*time.Second), scaled(o, 15*time.Second)
	liveRate, reserve := liveShare*o.q, reserveShare*o.q
	hasReserve := hasFlag(o.help, "reserve")
	name := fmt.Sprintf("live client %g/s (Poisson) beside 1 campaign --rate Q --reserve %g", liveRate, reserve)
	campaignFloor := 0.85 * (o.q - liveRate - reserve)
	target := fmt.Sprintf("after %s: live client throttled ≤ 0.5 %% of its calls; campaign ≥ 0.85 × (Q − live − reserve) = %.2f/s",
		warm, campaignFloor)
	args := runArgs{rate: o.q, adaptive: true, workers: o.workers}
	if hasReserve {
		args.extra = []string{"--reserve", strconv.FormatFloat(reserve, 'g', -1, 64)}
	}
	const campaign = "line10-campaign"
	var live *quotasim.Live
	res, err := timedRun(ctx, o, "line10", dur, func(url string) ([]*child, error) {
		csv, err := writeCSV(o, "line10.csv", "l10-user-", 1, int(o.q*dur.Seconds()*1.2)+100)
		if err != nil {
			return nil, err
		}
		args.csv = csv
		cs, err := startChildren(o, url, campaign, args)
		if err != nil {
			return cs, err
		}
		live, err = quotasim.StartLive(ctx, quotasim.LiveConfig{URL: url, Rate: liveRate, Seed: liveSeed, Duration: dur})
		return cs, err
	}, warm)
	if live != nil {
		live.Stop()
	}
	if err != nil {
		return errRow(n, name, target, err)
	}
	from, to, _ := res.snap.JudgedSeconds(warm)
	secs := float64(to - from)
	ls, lt := res.snap.PerClient[quotasim.LiveClient].Between(from, to)
	cs, ct := res.snap.PerClient[campaign].Between(from, to)
	liveThr := ratio(lt, ls+lt)
	campRate := float64(cs) / secs
	own := live.Stats()
	ok := liveThr <= 0.005 && campRate >= campaignFloor
	measured := fmt.Sprintf("live: throttled %s of its calls (%d/%d) over %d s, whole run %s (%d calls, %d dropped); "+
		"campaign %.2f/s (%.2f × (Q − live − reserve)), throttled %s of its calls; fleet util %.3f; %s",
		pct(liveThr), lt, ls+lt, to-from, pct(own.ThrottledShare()), own.Calls, own.Dropped,
		campRate, campRate/(o.q-liveRate-reserve), pct(ratio(ct, cs+ct)), res.w.util(o.q), res.limiters())
	result := passIf(ok)
	if !hasReserve {
		result = "n/a: --reserve not implemented"
		measured = "without --reserve: " + measured
	}
	warmEnd := from
	all, last, _ := res.snap.JudgedSeconds(0)
	measured += writePicture(o, "line10", chart{
		Title: fmt.Sprintf("Line 10 — live client %g/s (Poisson) beside one campaign --rate %g%s, Q = %g",
			liveRate, o.q, map[bool]string{true: fmt.Sprintf(" --reserve %g", reserve), false: " (no --reserve)"}[hasReserve], o.q),
		Subtitle: fmt.Sprintf("after %s: live client throttled %s, campaign %.2f/s; %s", warm, pct(liveThr), campRate, binaryVersion(o)),
		Q:        o.q, Series: []string{campaign, quotasim.LiveClient}, Stats: res.snap, From: all, To: last,
		Marks: []chartMark{{float64(warmEnd), "warm-up ends"}},
	})
	return []row{{n, fmt.Sprintf("%s (%s)", name, dur), target, measured, result}}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
