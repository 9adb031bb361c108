package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

// benchCreds are dummy credentials: ListUsers and AdminGetUser are signed calls (the
// simulator and the fake pool check no signature).
var benchCreds = []string{"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench"}

const benchPoolID = "us-east-1_bench"

// The reads the summary counts: "summary: N ListUsers calls (P listing pages, L lookups by name)".
var listSummary = regexp.MustCompile(`(\d+) ListUsers calls \((\d+) listing pages, (\d+) lookups by name\)`)

// ---- line 13: what --verify-users reads, and bills ----

// lineVerifyReads verifies the same 10 000-user CSV twice against a fake pool behind
// the quota simulator (9 500 UNCONFIRMED, 300 CONFIRMED, 200 not in the pool): with the
// default (--verify-with listusers: a census of the pool, lookups for the users it can't
// place) and with --verify-with admin-get-user. It counts the calls per operation at the
// simulator and the distinct users AdminGetUser read (each a billed monthly active user),
// and gives the wall time of the reads at the default rates (--list-rate 5/s,
// --verify-rate 10/s) from the counts; the runs themselves go at the quotas' ceilings
// (--list-rate 30, --verify-rate 120) so that the line takes about two minutes.
func lineVerifyReads(ctx context.Context, o *options) []row {
	const n, name = "13", "verification reads per 10 000 CSV users: census join vs AdminGetUser"
	target := "default: 0 AdminGetUser, 0 MAUs, fewer reads than AdminGetUser"
	const users, unconfirmed, confirmed = 10000, 9500, 300
	status := map[string]string{}
	for i := 1; i <= unconfirmed+confirmed; i++ {
		st := "UNCONFIRMED"
		if i > unconfirmed {
			st = "CONFIRMED"
		}
		status["vr-user-"+strconv.Itoa(i)] = st
	}
	pool := newFakePool(status).serve()
	defer pool.Close()
	csv, err := writeCSV(o, "line13.csv", "vr-user-", 1, users)
	if err != nil {
		return errRow(n, name, target, err)
	}
	type result struct {
		list, agu, maus int64
		summary         string
		wall            time.Duration
	}
	verify := func(label string, extra ...string) (result, error) {
		sim, err := startSim(ctx, quotasim.Config{Upstream: pool.URL})
		if err != nil {
			return result{}, err
		}
		defer sim.Close()
		a := offArgs(csv, o.workers)
		a.extra = append([]string{"--verify-users", "--user-pool-id", benchPoolID}, extra...)
		a.env = benchCreds
		logf("%s: %d CSV users, %s", label, users, strings.Join(a.extra, " "))
		c, err := startChild(o, sim.URL, label, a)
		if err != nil {
			return result{}, err
		}
		if err := c.wait(10*time.Minute, false); err != nil {
			return result{}, err
		}
		r := result{wall: time.Since(c.start), summary: c.stderr.String()}
		st := sim.Sim.Stats()
		if st.Successes != unconfirmed {
			return result{}, fmt.Errorf("%s: %d resends for %d UNCONFIRMED users; summary: %s", label, st.Successes, unconfirmed, c.summary())
		}
		r.list, r.agu = st.Op("ListUsers").Calls, st.Op("AdminGetUser").Calls
		for _, u := range st.OpUsers("AdminGetUser") {
			if !strings.HasPrefix(u, "cognito-resend-check-") { // the start-up check's name no one has
				r.maus++
			}
		}
		return r, nil
	}
	census, err := verify("line13-listusers", "--list-rate", "30")
	if err != nil {
		return errRow(n, name, target, err)
	}
	agu, err := verify("line13-admin-get-user", "--verify-with", "admin-get-user", "--verify-rate", "120")
	if err != nil {
		return errRow(n, name, target, err)
	}
	split := ""
	if m := listSummary.FindStringSubmatch(census.summary); m != nil {
		split = fmt.Sprintf(" (%s census pages + %s lookups)", m[2], m[3])
	}
	measured := fmt.Sprintf("census join: %d ListUsers%s, %d AdminGetUser, %d MAUs; reads %s at the default --list-rate %g/s "+
		"(run %s at --list-rate 30); vs AdminGetUser: %d calls, %d MAUs; %s at the default --verify-rate %g/s (run %s at 120/s)",
		census.list, split, census.agu, census.maus,
		readSecs(float64(census.list)/userpool.ListRateDefault), userpool.ListRateDefault, census.wall.Round(100*time.Millisecond),
		agu.agu, agu.maus, readSecs(float64(agu.agu)/userpool.VerifyRateDefault), userpool.VerifyRateDefault,
		agu.wall.Round(100*time.Millisecond))
	return []row{{n, name, target, measured, passIf(census.agu == 0 && census.maus == 0 && census.list < agu.agu && agu.maus == users)}}
}

// readSecs is a duration of s seconds, rounded to 0.1 s.
func readSecs(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(100 * time.Millisecond)
}

// ---- line 14: a pool is listed once ----

// linePoolListedOnce runs a pool campaign the way an operator does — --dry-run, then
// the run with the same --report, then --resume — against a fake pool of 6 000
// UNCONFIRMED users behind the quota simulator, and counts ListUsers at the simulator
// after each: the dry run's listing is the run's, and --resume reads the snapshot back.
// Before issue 18 the census and the run each listed the pool (2 listings a campaign,
// 3 with --resume).
func linePoolListedOnce(ctx context.Context, o *options) []row {
	const n, name = "14", "pool listings per campaign: dry run + run + --resume"
	target := "1 listing (was 2, and 1 more per --resume)"
	const users = 6000
	status := map[string]string{}
	for i := 1; i <= users; i++ {
		status["pl-user-"+strconv.Itoa(i)] = "UNCONFIRMED"
	}
	pool := newFakePool(status).serve()
	defer pool.Close()
	sim, err := startSim(ctx, quotasim.Config{Upstream: pool.URL})
	if err != nil {
		return errRow(n, name, target, err)
	}
	defer sim.Close()
	step := func(extra ...string) (int64, time.Duration, error) {
		before := sim.Sim.Stats().Op("ListUsers").Calls
		a := offArgs("", o.workers)
		a.extra = append([]string{"--user-pool-id", benchPoolID, "--list-rate", "30"}, extra...)
		a.env = benchCreds
		c, err := startChild(o, sim.URL, "line14", a) // one report: line14-report.csv
		if err != nil {
			return 0, 0, err
		}
		if err := c.wait(10*time.Minute, false); err != nil {
			return 0, 0, err
		}
		return sim.Sim.Stats().Op("ListUsers").Calls - before, time.Since(c.start), nil
	}
	dry, dryWall, err := step("--dry-run")
	if err != nil {
		return errRow(n, name, target, err)
	}
	run, runWall, err := step()
	if err != nil {
		return errRow(n, name, target, err)
	}
	resume, _, err := step("--resume")
	if err != nil {
		return errRow(n, name, target, err)
	}
	if s := sim.Sim.Stats().Successes; s != users {
		return errRow(n, name, target, fmt.Errorf("%d resends for %d users", s, users))
	}
	pages := int64((users + userpool.PageSizeMax - 1) / userpool.PageSizeMax)
	listings := float64(dry+run) / float64(pages)
	measured := fmt.Sprintf("%d users, %d pages a listing: dry run %d ListUsers (%s), run %d (%s), --resume %d → %.0f listing "+
		"(%s of listing saved at the default --list-rate %g/s; a 1 000 000-user pool: %s)", users, pages, dry,
		dryWall.Round(100*time.Millisecond), run, runWall.Round(100*time.Millisecond), resume, listings,
		readSecs(float64(pages)/userpool.ListRateDefault), userpool.ListRateDefault,
		readSecs(1e6/userpool.PageSizeMax/userpool.ListRateDefault).Round(time.Minute))
	return []row{{n, name, target, measured, passIf(dry == pages && run == 0 && resume == 0)}}
}
