package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// ---- lines 3, 8 and 9: N uncoordinated processes on one quota ----

// fleetSpec is procs processes, each `--rate rate --workers workers`, each with its own
// slice of one user list, on one simulator.
type fleetSpec struct {
	n         string // line number
	label     string // file and process name prefix
	procs     int
	rate      float64
	workers   int
	dur, warm time.Duration
}

func (f fleetSpec) childName(p int) string { return fmt.Sprintf("%s-p%02d", f.label, p) }

func (f fleetSpec) childNames() []string {
	names := make([]string, f.procs)
	for p := range names {
		names[p] = f.childName(p)
	}
	return names
}

// run starts the processes, lets them run and returns what the simulator saw.
func (f fleetSpec) run(ctx context.Context, o *options) (runResult, error) {
	per := int(f.rate*f.dur.Seconds()*1.2) + 100 // more than one process could send alone
	return timedRun(ctx, o, f.label, f.dur, func(url string) ([]*child, error) {
		var cs []*child
		for p := range f.procs {
			csv, err := writeCSV(o, fmt.Sprintf("%s-%d.csv", f.label, p), f.label+"-user-", 1+p*per, per)
			if err != nil {
				return cs, err
			}
			c, err := startChild(o, url, f.childName(p), runArgs{csv: csv, rate: f.rate, adaptive: true, workers: f.workers})
			if err != nil {
				return cs, err
			}
			cs = append(cs, c)
		}
		return cs, nil
	}, f.warm)
}

func lineFourProcesses(ctx context.Context, o *options) []row {
	f := fleetSpec{n: "3", label: "line3", procs: 4, rate: o.q, workers: o.workers,
		dur: scaled(o, 40*time.Second), warm: scaled(o, 10*time.Second)}
	name := "4 processes × --rate Q, adaptive"
	target := fmt.Sprintf("after %s: util ≥ 0.90, throttled ≤ 5 %%; no user sent twice", f.warm)
	res, err := f.run(ctx, o)
	if err != nil {
		return errRow(f.n, name, target, err)
	}
	base := before11[f.n]
	users, twice := sentTwice(res.final)
	ok := res.w.util(o.q) >= 0.90 && res.w.thrRatio() <= 0.05 && twice == 0
	measured := fmt.Sprintf("util %.3f, throttled %s over %d s (whole run %s); %d users sent, %d sent twice; %s; %s%s",
		res.w.util(o.q), pct(res.w.thrRatio()), res.w.seconds, pct(res.w.runRatio()), users, twice, res.limiters(),
		base.verdict(res.w, o.q), f.picture(o, res, name))
	return []row{{f.n, fmt.Sprintf("%s (%s)", name, f.dur), target + "; " + base.target(), measured,
		passIf(ok && base.noWorse(res.w, o.q))}}
}

// lineSixteen is issue 11's first fleet line: 16 uncoordinated processes, each told the
// whole quota.
func lineSixteen(ctx context.Context, o *options) []row {
	return fleetLine(ctx, o, fleetSpec{n: "8", label: "line8", procs: 16, rate: o.q, workers: o.workers,
		dur: scaled(o, 60*time.Second), warm: scaled(o, 15*time.Second)}, 0.03, 0.90)
}

// lineSixtyFour: 64 processes of 2 workers; 64 × a 1/s floor would already be 3.2 Q.
func lineSixtyFour(ctx context.Context, o *options) []row {
	return fleetLine(ctx, o, fleetSpec{n: "9", label: "line9", procs: 64, rate: o.q, workers: 2,
		dur: scaled(o, 60*time.Second), warm: scaled(o, 15*time.Second)}, 0.05, 0.85)
}

func fleetLine(ctx context.Context, o *options, f fleetSpec, maxThr, minUtil float64) []row {
	name := fmt.Sprintf("%d processes × --rate Q, --workers %d, adaptive", f.procs, f.workers)
	target := fmt.Sprintf("after %s: throttled ≤ %g %%, util ≥ %.2f; no user sent twice", f.warm, maxThr*100, minUtil)
	res, err := f.run(ctx, o)
	if err != nil {
		return errRow(f.n, name, target, err)
	}
	users, twice := sentTwice(res.final)
	ok := res.w.thrRatio() <= maxThr && res.w.util(o.q) >= minUtil && twice == 0
	measured := fmt.Sprintf("throttled %s, util %.3f over %d s (whole run %s); %s; %d users sent, %d sent twice; %s%s",
		pct(res.w.thrRatio()), res.w.util(o.q), res.w.seconds, pct(res.w.runRatio()),
		shares(res.snap, f.childNames(), f.warm), users, twice, res.limiters(), f.picture(o, res, name))
	return []row{{f.n, fmt.Sprintf("%s (%s)", name, f.dur), target, measured, passIf(ok)}}
}

// picture writes the run's chart and counters; it returns "; picture <path>" or a note.
func (f fleetSpec) picture(o *options, res runResult, name string) string {
	from, to, _ := res.snap.JudgedSeconds(0)
	warmEnd, _, _ := res.snap.JudgedSeconds(f.warm)
	return writePicture(o, f.label, chart{
		Title: fmt.Sprintf("Line %s — %s, Q = %g", f.n, name, o.q),
		Subtitle: fmt.Sprintf("after %s: throttled %s of calls, utilisation %.3f; limiter of %s",
			f.warm, pct(res.w.thrRatio()), res.w.util(o.q), binaryVersion(o)),
		Q: o.q, Series: f.childNames(), Stats: res.snap, From: from, To: to,
		Marks: []chartMark{{float64(warmEnd), "warm-up ends"}},
	})
}

// writePicture writes <label>.svg and <label>.json (the chart with the simulator's
// counters, without the per-user map; -render draws it again) to o.out.
func writePicture(o *options, label string, c chart) string {
	if o.out == "" {
		return ""
	}
	c.Stats.PerUser = nil
	var notes []string
	if missing := missingClients(c.Stats, c.Series); len(missing) > 0 {
		notes = append(notes, fmt.Sprintf("no per-process counters for %d of %d processes (app id not sent?)", len(missing), len(c.Series)))
	}
	svg := filepath.Join(o.out, label+".svg")
	err := writeSVG(svg, c)
	if err == nil {
		var b []byte
		if b, err = json.Marshal(c); err == nil {
			err = os.WriteFile(filepath.Join(o.out, label+".json"), b, 0o644)
		}
	}
	if err != nil {
		logf("%s: picture: %v", label, err)
		return "; picture: " + err.Error()
	}
	notes = append(notes, "picture "+svg)
	return "; " + strings.Join(notes, "; ")
}

func writeSVG(path string, c chart) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = c.render(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// renderDir draws every <label>.json of dir again as <label>.svg (after a change to the
// drawing, without running the benchmarks again).
func renderDir(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("-render: no .json in %s", dir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var c chart
		if err := json.Unmarshal(b, &c); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		svg := strings.TrimSuffix(f, ".json") + ".svg"
		if err := writeSVG(svg, c); err != nil {
			return fmt.Errorf("%s: %w", svg, err)
		}
		logf("drew %s", svg)
	}
	return nil
}

func missingClients(st quotasim.Stats, names []string) []string {
	var out []string
	for _, n := range names {
		if _, ok := st.PerClient[n]; !ok {
			out = append(out, n)
		}
	}
	return out
}

// binaryVersion is the version the binary reports, for the pictures' captions.
func binaryVersion(o *options) string {
	if o.version == "" {
		return filepath.Base(o.bin)
	}
	return o.version
}

// sentTwice counts users with a success and users with more than one.
func sentTwice(st quotasim.Stats) (users, twice int) {
	for _, u := range st.PerUser {
		if u.Successes > 0 {
			users++
		}
		if u.Successes > 1 {
			twice++
		}
	}
	return users, twice
}

// shares describes the spread of the processes' success rates over the judged seconds.
func shares(st quotasim.Stats, names []string, warm time.Duration) string {
	from, to, ok := st.JudgedSeconds(warm)
	if !ok || len(names) == 0 {
		return "shares ?"
	}
	v := make([]float64, len(names))
	for i, n := range names {
		s, _ := st.PerClient[n].Between(from, to)
		v[i] = float64(s) / float64(to-from)
	}
	slices.Sort(v)
	return fmt.Sprintf("shares %.2f / %.2f / %.2f/s (min / median / max)", v[0], v[len(v)/2], v[len(v)-1])
}

// ---- lines 2 and 3 against the limiter of before issue 11 ----

// baseline is what a line measured with the adaptive limiter of before issue 11
// (BENCHMARKS.md); a new controller must do no worse, within the machine's noise.
type baseline struct {
	util, thr float64
	when      string
}

// before11: medians of five runs of today's limiter on the machine of BENCHMARKS.md
// (2026-11-25 and 2026-12-01): line 2 measured 0.82-0.99 % throttled, line 3 1.80-3.54 %,
// utilisation 0.998-1.007 both.
var before11 = map[string]baseline{
	"2": {util: 1.000, thr: 0.0083, when: "median of 5 runs"},
	"3": {util: 1.000, thr: 0.0242, when: "median of 5 runs"},
}

// Noise allowances: the spread of those runs (line 3's throttled share ranged 1.7 pt).
const (
	baseUtilSlack = 0.02
	baseThrSlack  = 0.012
)

func (b baseline) target() string {
	return fmt.Sprintf("no worse than before issue 11 (%s: util %.3f, throttled %s): util ≥ %.3f, throttled ≤ %s",
		b.when, b.util, pct(b.thr), b.util-baseUtilSlack, pct(b.thr+baseThrSlack))
}

func (b baseline) noWorse(w window, q float64) bool {
	return w.util(q) >= b.util-baseUtilSlack && w.thrRatio() <= b.thr+baseThrSlack
}

func (b baseline) verdict(w window, q float64) string {
	if b.noWorse(w, q) {
		return "no worse than before issue 11"
	}
	return fmt.Sprintf("WORSE than before issue 11 (util %+.3f, throttled %+.2f pt)", w.util(q)-b.util, 100*(w.thrRatio()-b.thr))
}
