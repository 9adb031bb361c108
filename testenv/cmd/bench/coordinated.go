package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// ---- line 11: a coordinated fleet scaled 1 → 8 → 3 under --fleet-rate Q ----

// startDynamo starts the DynamoDB emulator (dynalite) holding line 11's shared table. A
// variable so that the line can say n/a without one.
var startDynamo = emu.StartDynamo

// fleetTable is line 11's ledger table.
const fleetTable = "bench-fleet"

// phase is one stretch of the schedule: replicas running for a duration.
type phase struct {
	replicas int
	dur      time.Duration
}

// Settling time after each change, and the width of the judged windows (issue 11).
const (
	settle     = 5 * time.Second
	markWindow = 5 * time.Second
)

// schedule: each phase leaves three judged windows after settling, plus a second for
// the change not falling on a whole second (-quick: at least one window).
func schedule(o *options) []phase {
	d := max(scaled(o, 21*time.Second), settle+markWindow+time.Second)
	return []phase{{1, d}, {8, d}, {3, d}}
}

func lineCoordinated(ctx context.Context, o *options) []row {
	const n = "11"
	phases := schedule(o)
	name := "coordinated fleet 1 → 8 → 3 replicas (added, then killed with SIGKILL), --fleet-rate Q"
	target := fmt.Sprintf("fleet rate within ±10 %% of Q at every %s mark after each change settles (%s); throttled ≤ 1 %%", markWindow, settle)
	var why string
	switch {
	case !hasFlag(o.help, "fleet-rate") || !hasFlag(o.help, "ledger-table"):
		why = "n/a: --fleet-rate/--ledger-table not implemented"
	case startDynamo == nil:
		why = "n/a: no DynamoDB emulator (testenv/emu StartDynamo)"
	}
	coordinated := why == ""

	var env, extra []string
	if coordinated {
		db, err := startDynamo(ctx, emu.WithTableDelay(0))
		if err != nil {
			return errRow(n, name, target, fmt.Errorf("dynamodb emulator: %w", err))
		}
		defer db.Close()
		env = emu.DynamoEnv(db.Endpoint)
		if err := ledgerInit(ctx, o, env); err != nil {
			return errRow(n, name, target, err)
		}
		extra = []string{"--fleet-rate", strconv.FormatFloat(o.q, 'g', -1, 64), "--fleet-name", "bench", "--ledger-table", fleetTable}
	}

	res, err := scaleRun(ctx, o, phases, runArgs{rate: o.q, adaptive: true, workers: o.workers, extra: extra, env: env})
	if err != nil {
		return errRow(n, name, target, err)
	}
	marks, thr, calls := judgeMarks(res.snap, res.changes, o.q)
	inBand := 0
	var rates []string
	for _, m := range marks {
		if m.ok {
			inBand++
		}
		rates = append(rates, fmt.Sprintf("%.1f", m.rate))
	}
	thrShare := ratio(thr, calls)
	ok := len(marks) > 0 && inBand == len(marks) && thrShare <= 0.01
	measured := fmt.Sprintf("%d of %d %s marks within ±10 %% of Q (fleet rates %s/s); throttled %s over them (%d/%d), whole run %s",
		inBand, len(marks), markWindow, strings.Join(rates, ", "), pct(thrShare), thr, calls, pct(ratio(res.snap.Throttled, res.snap.Calls)))
	result := passIf(ok)
	if !coordinated {
		measured = "each replica --rate Q, no fleet budget: " + measured
		result = why
	}
	from, to, _ := res.snap.JudgedSeconds(0)
	var cm []chartMark
	for i, c := range res.changes {
		cm = append(cm, chartMark{unixSeconds(c), plural(phases[i].replicas, "replica")})
	}
	var bands []chartBand
	for _, m := range marks {
		bands = append(bands, chartBand{m.at - int64(markWindow/time.Second), m.at, m.ok})
	}
	mode := map[bool]string{true: "--fleet-rate Q", false: "--rate Q each, no fleet budget"}[coordinated]
	measured += writePicture(o, "line11", chart{
		Title:    fmt.Sprintf("Line 11 — fleet scaled 1 → 8 → 3 replicas (%s), Q = %g", mode, o.q),
		Subtitle: fmt.Sprintf("%d of %d marks within ±10 %% of Q, throttled %s; %s", inBand, len(marks), pct(thrShare), binaryVersion(o)),
		Q:        o.q, Series: res.names, Stats: res.snap, From: from, To: to, Marks: cm, Bands: bands,
	})
	return []row{{n, name + fmt.Sprintf(" (%s)", totalDur(phases)), target, measured, result}}
}

func totalDur(ps []phase) time.Duration {
	var d time.Duration
	for _, p := range ps {
		d += p.dur
	}
	return d
}

// ledgerInit creates the shared table with the binary's own command.
func ledgerInit(ctx context.Context, o *options, env []string) error {
	cmd := exec.CommandContext(ctx, o.bin, "ledger", "init", "--ledger-table", fleetTable)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + o.tmp}, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ledger init: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// scaleResult is what one scaling run saw.
type scaleResult struct {
	snap    quotasim.Stats
	changes []time.Time // when each phase began
	names   []string    // every replica ever started, in order
}

// scaleRun runs the phases against one simulator: replicas are added to reach a phase's
// count, or the newest are killed with SIGKILL (what Kubernetes does to a pod that
// ignores its grace period, or on OOM); the survivors get SIGINT at the end.
func scaleRun(ctx context.Context, o *options, phases []phase, a runArgs) (scaleResult, error) {
	simCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv, err := startSim(simCtx, quotaSim(o))
	if err != nil {
		return scaleResult{}, err
	}
	defer srv.Close()
	logf("line11: %s against %s", totalDur(phases), srv.URL)
	per := int(o.q*totalDur(phases).Seconds()*1.2) + 100
	var res scaleResult
	var alive, killed []*child
	var errs []error
	for _, ph := range phases {
		res.changes = append(res.changes, time.Now())
		for len(alive) < ph.replicas {
			i := len(res.names)
			csv, err := writeCSV(o, fmt.Sprintf("line11-%d.csv", i), "l11-user-", 1+i*per, per)
			if err != nil {
				errs = append(errs, err)
				break
			}
			name := fmt.Sprintf("line11-r%02d", i)
			b := a
			b.csv = csv
			c, err := startChild(o, srv.URL, name, b)
			if err != nil {
				errs = append(errs, err)
				break
			}
			res.names = append(res.names, name)
			alive = append(alive, c)
		}
		for len(alive) > ph.replicas {
			c := alive[len(alive)-1]
			_ = c.cmd.Process.Kill()
			alive, killed = alive[:len(alive)-1], append(killed, c)
		}
		if len(errs) > 0 {
			break
		}
		if err := sleepCtx(ctx, ph.dur); err != nil {
			errs = append(errs, err)
			break
		}
	}
	res.snap = srv.Sim.Stats()
	errs = append(errs, stopAll(alive))
	for _, c := range killed {
		<-c.done // killed: its exit status is the SIGKILL
	}
	return res, errors.Join(errs...)
}

// mark is one judged window of line 11.
type mark struct {
	at   int64 // Unix second the window ends
	rate float64
	ok   bool
}

// judgeMarks averages the fleet's successes over each markWindow that starts settle or
// more after a change and ends before the next change (or the last complete second), and
// sums the throttles and calls answered in those windows.
func judgeMarks(st quotasim.Stats, changes []time.Time, q float64) (marks []mark, throttled, calls int64) {
	_, last, ok := st.JudgedSeconds(0)
	if !ok {
		return nil, 0, 0
	}
	per := map[int64]quotasim.SecondStats{}
	for _, ps := range st.PerSecond {
		per[ps.Unix] = ps
	}
	win := int64(markWindow / time.Second)
	for i, c := range changes {
		end := last
		if i+1 < len(changes) {
			end = min(end, changes[i+1].Unix()) // the second of the next change is not this phase's
		}
		for from := ceilUnix(c) + int64(settle/time.Second); from+win <= end; from += win {
			var succ int64
			for s := from; s < from+win; s++ {
				succ += per[s].Successes
				throttled += per[s].Throttled
				calls += per[s].Successes + per[s].Throttled
			}
			r := float64(succ) / float64(win)
			marks = append(marks, mark{at: from + win, rate: r, ok: r >= 0.9*q && r <= 1.1*q})
		}
	}
	return marks, throttled, calls
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// ceilUnix is the first whole Unix second at or after t.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.After(time.Unix(s, 0)) {
		s++
	}
	return s
}
