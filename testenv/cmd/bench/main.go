// Command bench runs cognito-resend's end-to-end benchmarks (issues 4 and 11) and prints
// one table: target, measured value and PASS/FAIL per line.
//
// Every line starts its own quota simulator (testenv/quotasim) in this process on
// 127.0.0.1 and runs the built cognito-resend binary as child processes against it,
// unsigned (no credentials), with a clean environment; each child names itself with
// the SDK's app id (AWS_SDK_UA_APP_ID), so the simulator counts it apart. Lines run one
// after another. Each multi-process line writes a picture (SVG) and its counters (JSON)
// to -out. Line 12 also starts dynalite (testenv/emu) for the ledger table, with dummy
// keys.
//
//	go run ./testenv/cmd/bench -bin bin/cognito-resend          # full run, ~13 min
//	go run ./testenv/cmd/bench -quick                           # smoke run, ~3 min
//	go run ./testenv/cmd/bench -only 2,3                        # some lines only
//
// Without -bin the binary is built into a temporary directory first. Lines that need a
// flag the binary does not have yet (--reserve, --fleet-rate) still run, without it,
// and say "n/a" instead of PASS or FAIL.
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

type options struct {
	bin       string
	quick     bool
	scale     float64
	only      map[int]bool
	q         float64
	workers   int
	overheadN int
	memoryN   int
	memoryW   int
	startRuns int
	ledgerN   int
	scaleN    int
	verbose   bool
	keep      bool
	out       string // pictures and counters of the multi-process lines
	timeout   time.Duration
	render    string // draw the pictures of this directory's .json again, run nothing
	tmp       string
	help      string // the binary's `run --help`
	version   string // the first line of the binary's `version`
	yes       bool   // the binary has --yes (confirmation without a terminal)
}

// lineCount is the number of the last line.
const lineCount = 16

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if o.render != "" {
		if err := renderDir(o.render); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
		return
	}
	ctx, stop := signalContext()
	defer stop()
	ctx, cancel := context.WithTimeoutCause(ctx, o.timeout, fmt.Errorf("bench: -timeout %s reached", o.timeout))
	defer cancel()
	failed, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := &options{}
	only := fs.String("only", "", fmt.Sprintf("comma-separated line numbers to run (default all: 1-%d)", lineCount))
	fs.StringVar(&o.bin, "bin", "", "cognito-resend binary (default: go build into a temp dir)")
	fs.BoolVar(&o.quick, "quick", false, "smoke run: -scale 0.2, 20k-row overhead, 100k-row memory, 3 start-up runs")
	fs.Float64Var(&o.scale, "scale", 1, "multiplies the durations of lines 1-4 and 8-11 (1 = 60 s / 40 s / 40 s / 60 s; 60 s each for 8-11)")
	fs.Float64Var(&o.q, "q", 20, "simulated quota Q (requests/s)")
	fs.IntVar(&o.workers, "workers", 8, "--workers for every run, and the naive baseline's pool size")
	fs.IntVar(&o.overheadN, "overhead-rows", 100_000, "users for line 5")
	fs.IntVar(&o.memoryN, "memory-rows", 1_000_000, "rows for line 6")
	fs.IntVar(&o.memoryW, "memory-workers", 64, "--workers for line 6 (more workers: faster, and more memory in flight)")
	fs.IntVar(&o.startRuns, "startup-runs", 5, "runs for line 7 (median is judged)")
	fs.IntVar(&o.scaleN, "scale-rows", 10_000_000, "rows for lines 15-16 (a dry run, and --resume --dry-run with a report of every row)")
	fs.IntVar(&o.ledgerN, "ledger-rows", 5000, "users for line 12 (each run: file ledger, then the table on dynalite)")
	fs.BoolVar(&o.verbose, "v", false, "print the children's stderr")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (CSVs, reports)")
	fs.StringVar(&o.out, "out", "bench-out", "directory for the pictures (SVG) and counters (JSON) of the multi-process lines; empty: none")
	fs.DurationVar(&o.timeout, "timeout", 40*time.Minute, "bound on the whole run")
	fs.StringVar(&o.render, "render", "", "draw the SVGs of a directory's .json files (written by -out) again and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["scale"] {
			o.scale = 0.2
		}
		if !set["overhead-rows"] {
			o.overheadN = 20_000
		}
		if !set["memory-rows"] {
			o.memoryN = 100_000
		}
		if !set["startup-runs"] {
			o.startRuns = 3
		}
		if !set["scale-rows"] {
			o.scaleN = 1_000_000
		}
		if !set["ledger-rows"] {
			o.ledgerN = 1000
		}
	}
	if o.scale <= 0 || o.q <= 0 || o.workers < 1 || o.timeout <= 0 {
		return nil, errors.New("-scale, -q, -workers and -timeout must be positive")
	}
	o.only = map[int]bool{}
	for _, f := range strings.Split(*only, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > lineCount {
			return nil, fmt.Errorf("-only: %q is not a line number 1-%d", f, lineCount)
		}
		o.only[n] = true
	}
	return o, nil
}

// row is one line of the table.
type row struct {
	n        string
	name     string
	target   string
	measured string
	result   string // PASS, FAIL, INFO, ERROR
}

func run(ctx context.Context, o *options, out io.Writer) (failed bool, err error) {
	o.tmp, err = os.MkdirTemp("", "cognito-resend-bench-")
	if err != nil {
		return false, err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "bench: temporary files in", o.tmp)
	} else {
		defer os.RemoveAll(o.tmp)
	}
	if o.bin == "" {
		o.bin = filepath.Join(o.tmp, "cognito-resend")
		logf("building %s", o.bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", o.bin, "./cmd/cognito-resend")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return false, fmt.Errorf("build: %w", err)
		}
	} else if o.bin, err = filepath.Abs(o.bin); err != nil {
		return false, err
	}
	if _, err := os.Stat(o.bin); err != nil {
		return false, err
	}
	help, _ := exec.CommandContext(ctx, o.bin, "run", "--help").CombinedOutput()
	o.help = string(help)
	o.yes = hasFlag(o.help, "yes")
	if v, err := exec.CommandContext(ctx, o.bin, "version").Output(); err == nil {
		o.version, _, _ = strings.Cut(strings.TrimSpace(string(v)), "\n")
	}
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return false, err
		}
	}

	lines := []struct {
		n  int
		fn func(context.Context, *options) []row
	}{
		{1, lineAtQuota},
		{2, lineAdaptive},
		{3, lineFourProcesses},
		{4, lineNaive},
		{5, lineOverhead},
		{6, lineMemory},
		{7, lineStartup},
		{8, lineSixteen},
		{9, lineSixtyFour},
		{10, lineLive},
		{11, lineCoordinated},
		{12, lineLedgerOverhead},
		{13, lineVerifyReads},
		{14, linePoolListedOnce},
		{15, lineScaleDryRun},
		{16, lineScaleResume},
	}
	load0 := loadAvg()
	var rows []row
	for _, l := range lines {
		if len(o.only) > 0 && !o.only[l.n] {
			continue
		}
		if ctx.Err() != nil {
			return true, context.Cause(ctx)
		}
		started := time.Now()
		rs := l.fn(ctx, o)
		for _, r := range rs {
			logf("line %s %s: %s → %s (%s)", r.n, r.name, r.measured, r.result, time.Since(started).Round(time.Second))
		}
		rows = append(rows, rs...)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "cognito-resend benchmarks — %s; Q = %g req/s; %d workers; scale %g; load average %s at start, %s at end\n\n",
		machine(), o.q, o.workers, o.scale, load0, loadAvg())
	printTable(out, rows)
	for _, r := range rows {
		if r.result == "FAIL" || r.result == "ERROR" {
			failed = true
		}
	}
	return failed, nil
}

// hasFlag reports whether a urfave/cli help text lists --name (alone or among aliases).
func hasFlag(help, name string) bool {
	re := regexp.MustCompile(`(?m)^\s*(?:-{1,2}[\w-]+,\s*)*--` + regexp.QuoteMeta(name) + `(?:[\s=,]|$)`)
	return re.MatchString(help)
}

// loadAvg is the 1-minute load average (other engineers' runs share the machine).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func printTable(w io.Writer, rows []row) {
	head := row{"#", "benchmark", "target", "measured", "result"}
	width := [5]int{}
	cells := func(r row) [5]string { return [5]string{r.n, r.name, r.target, r.measured, r.result} }
	for _, r := range append([]row{head}, rows...) {
		for i, c := range cells(r) {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(c [5]string) {
		var b strings.Builder
		b.WriteString("|")
		for i, s := range c {
			b.WriteString(" " + s + strings.Repeat(" ", width[i]-len([]rune(s))) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	line(cells(head))
	var sep [5]string
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, r := range rows {
		line(cells(r))
	}
}

func machine() string {
	cpu := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%d CPUs (%s), %s %s/%s", runtime.NumCPU(), cpu, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func scaled(o *options, d time.Duration) time.Duration {
	return time.Duration(float64(d) * o.scale).Round(time.Second)
}

func passIf(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func errRow(n, name, target string, err error) []row {
	logf("line %s: %v", n, err)
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if r := []rune(msg); len(r) > 160 {
		msg = string(r[:160]) + "…"
	}
	return []row{{n, name, target, "error: " + msg, "ERROR"}}
}

// ---- simulator and child processes ----

// quotaSim is the simulator config of lines 1-4: the real service's shape as far as it
// matters here — a token bucket of rate Q and burst B = Q, 100 ms ± 20 ms per call.
func quotaSim(o *options) quotasim.Config {
	return quotasim.Config{
		Rate:          o.q,
		Burst:         int(o.q),
		LatencyFixed:  100 * time.Millisecond,
		LatencyJitter: 20 * time.Millisecond,
		Seed:          4,
	}
}

func startSim(ctx context.Context, cfg quotasim.Config) (*quotasim.Server, error) {
	return quotasim.Start(ctx, cfg)
}

// writeCSV writes a header and n usernames prefix-000001… and returns the path.
func writeCSV(o *options, name, prefix string, from, n int) (string, error) {
	path := filepath.Join(o.tmp, name)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.WriteString("username\n")
	buf := make([]byte, 0, 64)
	for i := from; i < from+n; i++ {
		buf = append(buf[:0], prefix...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// child is one cognito-resend process.
type child struct {
	cmd    *exec.Cmd
	stderr *tailBuffer
	name   string
	start  time.Time // just before exec
	done   chan struct{}
	err    error
	peakKB atomic.Int64 // the child's own peak RSS, where watchPeak reads it (Linux)
}

type runArgs struct {
	csv      string
	rate     float64
	burst    int
	adaptive bool
	workers  int
	logLevel string // --log-level; "" is warn
	dir      string // where the report and its ledger go; "" is the bench's temporary directory
	extra    []string
	env      []string // added to the clean environment
}

// startChildren starts one child as a slice, for timedRun.
func startChildren(o *options, simURL, name string, a runArgs) ([]*child, error) {
	c, err := startChild(o, simURL, name, a)
	if err != nil {
		return nil, err
	}
	return []*child{c}, nil
}

func startChild(o *options, simURL, name string, a runArgs) (*child, error) {
	report := filepath.Join(cmp.Or(a.dir, o.tmp), name+"-report.csv")
	var args []string
	if a.csv != "" { // else the source is in extra (--user-pool-id)
		args = append(args, "--csv", a.csv)
	}
	args = append([]string{"run"}, append(args, "--client-id", "benchclient", "--report", report,
		"--rate", strconv.FormatFloat(a.rate, 'g', -1, 64), "--workers", strconv.Itoa(a.workers),
		"--adaptive="+strconv.FormatBool(a.adaptive), "--log-format", "json", "--log-level", cmp.Or(a.logLevel, "warn"))...)
	if o.yes {
		args = append(args, "--yes")
	}
	if a.burst > 0 {
		args = append(args, "--burst", strconv.Itoa(a.burst))
	}
	args = append(args, a.extra...)
	cmd := exec.Command(o.bin, args...)
	home := filepath.Join(o.tmp, "home")
	_ = os.MkdirAll(home, 0o700)
	// A clean environment: no credentials, no profile, no COGNITO_RESEND_* settings.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + simURL,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		// The simulator counts each child apart by the app id in its User-Agent.
		"AWS_SDK_UA_APP_ID=" + name,
	}
	cmd.Env = append(cmd.Env, a.env...)
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+v)
	}
	c := &child{cmd: cmd, stderr: &tailBuffer{max: 64 << 10}, name: name, done: make(chan struct{})}
	if o.verbose {
		cmd.Stderr = io.MultiWriter(c.stderr, prefixWriter{name})
	} else {
		cmd.Stderr = c.stderr
	}
	c.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	go c.watchPeak()
	return c, nil
}

// stop sends SIGINT (soft stop: in-flight calls finish) and waits; SIGKILL after 30 s.
func (c *child) stop() error {
	select {
	case <-c.done:
		return c.exitErr(true)
	default:
	}
	_ = c.cmd.Process.Signal(os.Interrupt)
	return c.wait(30*time.Second, true)
}

func (c *child) wait(timeout time.Duration, interrupted bool) error {
	select {
	case <-c.done:
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s: killed after %s; stderr: %s", c.name, timeout, c.stderr.String())
	}
	return c.exitErr(interrupted)
}

// exitErr: exit 0 is fine; after a SIGINT the "interrupted" exit status is expected.
func (c *child) exitErr(interrupted bool) error {
	if c.err == nil {
		return nil
	}
	var ee *exec.ExitError
	if interrupted && errors.As(c.err, &ee) && strings.Contains(c.stderr.String(), "interrupted") {
		return nil
	}
	return fmt.Errorf("%s: %v; stderr: %s", c.name, c.err, strings.TrimSpace(c.stderr.String()))
}

func (c *child) summary() string {
	for _, l := range strings.Split(c.stderr.String(), "\n") {
		var rec struct{ Msg, Text string }
		if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "summary" {
			l = rec.Text // JSON logs (no terminal): the summary's lines are log records
		}
		if strings.HasPrefix(l, "summary: ") && strings.Contains(l, "rows") {
			return strings.TrimPrefix(l, "summary: ")
		}
	}
	return ""
}

type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

type prefixWriter struct{ name string }

func (p prefixWriter) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		fmt.Fprintf(os.Stderr, "  [%s] %s\n", p.name, l)
	}
	return len(b), nil
}

// sleepCtx sleeps d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// window is what the simulator saw over the judged seconds.
type window struct {
	succPerSec, thrPerSec float64
	seconds               int
	calls, throttled      int64 // whole run
}

func (w window) util(q float64) float64 { return w.succPerSec / q }

// thrRatio is throttled ÷ (successes + throttled) over the window: with no faults
// configured those are all the calls answered in it.
func (w window) thrRatio() float64 {
	if w.succPerSec+w.thrPerSec == 0 {
		return 0
	}
	return w.thrPerSec / (w.succPerSec + w.thrPerSec)
}

func (w window) runRatio() float64 {
	if w.calls == 0 {
		return 0
	}
	return float64(w.throttled) / float64(w.calls)
}

// measure judges the complete seconds from warmup after the first answered second to
// the last complete one (RatesAfter drops the partial last second).
func measure(st quotasim.Stats, warmup time.Duration) (window, bool) {
	s, t, ok := st.RatesAfter(warmup)
	if !ok {
		return window{}, false
	}
	from := st.PerSecond[0].Unix + int64((warmup+time.Second-1)/time.Second)
	to := st.PerSecond[len(st.PerSecond)-1].Unix
	return window{succPerSec: s, thrPerSec: t, seconds: int(to - from), calls: st.Calls, throttled: st.Throttled}, true
}

func pct(f float64) string { return fmt.Sprintf("%.2f %%", f*100) }

// ---- line 1: --rate Q ----

func lineAtQuota(ctx context.Context, o *options) []row {
	const n, name = "1", "--rate Q, adaptive (default)"
	dur := scaled(o, 60*time.Second)
	target := "util ≥ 0.97, throttled ≤ 1 % of all calls"
	res, err := timedRun(ctx, o, "line1", dur, func(url string) ([]*child, error) {
		csv, err := writeCSV(o, "line1.csv", "l1-user-", 1, int(o.q*dur.Seconds()*1.5)+100)
		if err != nil {
			return nil, err
		}
		return startChildren(o, url, "line1", runArgs{csv: csv, rate: o.q, adaptive: true, workers: o.workers})
	}, time.Second)
	if err != nil {
		return errRow(n, name, target, err)
	}
	w, sum := res.w, res.limiters()
	ok := w.util(o.q) >= 0.97 && w.runRatio() <= 0.01
	return []row{{n, fmt.Sprintf("%s (%s, sim Q=%g B=%d, 100±20 ms)", name, dur, o.q, int(o.q)), target,
		fmt.Sprintf("util %.3f (%.2f/s over %d s), throttled %s (%d/%d); %s", w.util(o.q), w.succPerSec, w.seconds,
			pct(w.runRatio()), w.throttled, w.calls, sum), passIf(ok)}}
}

// ---- line 2: --rate 5Q adaptive ----

func lineAdaptive(ctx context.Context, o *options) []row {
	const n, name = "2", "--rate 5Q, adaptive"
	dur, warm := scaled(o, 40*time.Second), scaled(o, 10*time.Second)
	target := fmt.Sprintf("after %s: util ≥ 0.90, throttled ≤ 5 %%", warm)
	res, err := timedRun(ctx, o, "line2", dur, func(url string) ([]*child, error) {
		csv, err := writeCSV(o, "line2.csv", "l2-user-", 1, int(o.q*dur.Seconds()*2)+100)
		if err != nil {
			return nil, err
		}
		return startChildren(o, url, "line2", runArgs{csv: csv, rate: 5 * o.q, adaptive: true, workers: o.workers})
	}, warm)
	if err != nil {
		return errRow(n, name, target, err)
	}
	w, sum := res.w, res.limiters()
	base := before11[n]
	ok := w.util(o.q) >= 0.90 && w.thrRatio() <= 0.05
	return []row{{n, fmt.Sprintf("%s (%s, rate %g)", name, dur, 5*o.q), target + "; " + base.target(),
		fmt.Sprintf("util %.3f, throttled %s over %d s (whole run %s); %s; %s", w.util(o.q), pct(w.thrRatio()), w.seconds,
			pct(w.runRatio()), sum, base.verdict(w, o.q)), passIf(ok && base.noWorse(w, o.q))}}
}

// runResult is what timedRun saw.
type runResult struct {
	w     window
	snap  quotasim.Stats // at the deadline, before the children were stopped
	final quotasim.Stats // after they exited
	cs    []*child
}

// limiters lists the children's limiter rates at exit (a spread when there are many).
func (r runResult) limiters() string {
	var rates []string
	for _, c := range r.cs {
		if s := c.summary(); s != "" {
			rates = append(rates, rateNow(s))
		}
	}
	if len(rates) <= 4 {
		return "limiter at exit: " + strings.Join(rates, ", ")
	}
	var v []float64
	for _, s := range rates {
		if f, err := strconv.ParseFloat(strings.TrimSuffix(s, "/s"), 64); err == nil {
			v = append(v, f)
		}
	}
	if len(v) == 0 {
		return "limiter at exit: ?"
	}
	slices.Sort(v)
	return fmt.Sprintf("limiters at exit %.1f / %.1f / %.1f/s (min / median / max of %d)", v[0], v[len(v)/2], v[len(v)-1], len(v))
}

// timedRun starts a simulator with the lines-1-4 config, starts children, lets them run
// for dur, snapshots the simulator, stops them (SIGINT) and judges the snapshot.
func timedRun(ctx context.Context, o *options, label string, dur time.Duration,
	start func(url string) ([]*child, error), warm time.Duration,
) (runResult, error) {
	simCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv, err := startSim(simCtx, quotaSim(o))
	if err != nil {
		return runResult{}, err
	}
	defer srv.Close()
	logf("%s: %s against %s", label, dur, srv.URL)
	cs, err := start(srv.URL)
	if err != nil {
		_ = stopAll(cs)
		return runResult{}, err
	}
	sleepErr := sleepCtx(ctx, dur)
	snap := srv.Sim.Stats()
	stopErr := stopAll(cs)
	if sleepErr != nil {
		return runResult{}, sleepErr
	}
	if stopErr != nil {
		return runResult{}, stopErr
	}
	w, ok := measure(snap, warm)
	if !ok {
		return runResult{}, fmt.Errorf("no complete second after the warm-up (calls %d)", snap.Calls)
	}
	return runResult{w: w, snap: snap, final: srv.Sim.Stats(), cs: cs}, nil
}

// stopAll sends SIGINT to every child at once, then waits for each.
func stopAll(cs []*child) error {
	var errs []error
	for _, c := range cs {
		_ = c.cmd.Process.Signal(os.Interrupt)
	}
	for _, c := range cs {
		errs = append(errs, c.stop())
	}
	return errors.Join(errs...)
}

// rateNow extracts "rate now X/s" from a summary line.
func rateNow(summary string) string {
	if i := strings.Index(summary, "rate now "); i >= 0 {
		rate, _, _ := strings.Cut(strings.TrimSpace(summary[i+len("rate now "):]), ",")
		return rate
	}
	return "?"
}

// ---- line 5: overhead ----

// offArgs is "limiter effectively off": --rate must be > 0, so a huge rate and burst.
func offArgs(csv string, workers int) runArgs {
	return runArgs{csv: csv, rate: 1e9, burst: 1000, adaptive: false, workers: workers}
}

func lineOverhead(ctx context.Context, o *options) []row {
	const n, name = "5", "overhead: instant responder, limiter off"
	target := fmt.Sprintf("≥ 5000 jobs/s; ≥ 3 jobs per fsync-time; disk ÷ tmpfs ≥ %.1f", offPathRatio)
	before, err := syncProbe(probeDir(o), syncProbeWrites)
	if err != nil {
		return errRow(n, name, target, err)
	}
	// INFO: the run's last lines include the intent ledger's cost (ledgerCost).
	res, err := instantRun(ctx, o, "line5", o.overheadN, o.workers, "info", "")
	if err != nil {
		return errRow(n, name, target, err)
	}
	after, err := syncProbe(probeDir(o), syncProbeWrites)
	if err != nil {
		return errRow(n, name, target, err)
	}
	fsync := (before + after) / 2
	perFsync := res.jobsPerSec * fsync.Seconds()
	measured := fmt.Sprintf("%.0f jobs/s × fsync %.3f ms (probe before %.3f, after %.3f) = %.2f jobs per fsync-time; "+
		"%s; %s (first call → exit %s; process %s, max RSS %.1f MB)",
		res.jobsPerSec, ms(fsync), ms(before), ms(after), perFsync, res.cpuLine(), res.ledger,
		res.firstToExit.Round(time.Millisecond), res.wall.Round(time.Millisecond), float64(res.maxRSSKB)/1024)
	// The same run with the report and its ledger on a tmpfs, where an fsync is nearly
	// free: the ratio of the two is how much the disk still costs the run, whatever the
	// disk. Near 1, the ledger is off the critical path.
	ratio, ratioOK := 0.0, false
	if tmpfs, err := tmpfsDir(o); err != nil {
		measured += fmt.Sprintf("; tmpfs run: n/a (%v)", err)
	} else {
		defer os.RemoveAll(tmpfs)
		mem, err := instantRun(ctx, o, "line5-tmpfs", o.overheadN, o.workers, "info", tmpfs)
		if err != nil {
			return errRow(n, name, target, err)
		}
		ratio = res.jobsPerSec / mem.jobsPerSec
		ratioOK = ratio >= offPathRatio
		measured += fmt.Sprintf("; on tmpfs (%s): %.0f jobs/s, %s, %d intents in %d fsyncs → disk ÷ tmpfs = %.2f",
			tmpfsRoot, mem.jobsPerSec, mem.cpuLine(), mem.ledger.Records, mem.ledger.Fsyncs, ratio)
	}
	return []row{{n, fmt.Sprintf("%s (%d users, %d workers)", name, o.overheadN, o.workers), target,
		measured, passIf(res.jobsPerSec >= 5000 && perFsync >= 3 && ratioOK)}}
}

// offPathRatio is line 5's bound on jobs/s on the disk ÷ jobs/s on a tmpfs: the ledger's
// and the report's fsyncs cost the run at most a tenth of its throughput.
const offPathRatio = 0.9

// tmpfsRoot is where line 5's second run writes its report and ledger (Linux's
// shared-memory tmpfs): an fsync there writes nothing to a disk.
const tmpfsRoot = "/dev/shm"

// tmpfsDir makes a directory for a child's report on tmpfsRoot.
func tmpfsDir(o *options) (string, error) {
	if st, err := os.Stat(tmpfsRoot); err != nil || !st.IsDir() {
		return "", fmt.Errorf("no %s", tmpfsRoot)
	}
	return os.MkdirTemp(tmpfsRoot, filepath.Base(o.tmp)+"-")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ---- line 6: memory ----

func lineMemory(ctx context.Context, o *options) []row {
	const n, name = "6", "memory: CSV through instant responder"
	target := "peak RSS ≤ 100 MB"
	res, err := instantRun(ctx, o, "line6", o.memoryN, o.memoryW, "", "")
	if err != nil {
		return errRow(n, name, target, err)
	}
	mb := float64(res.maxRSSKB) / 1024
	return []row{{n, fmt.Sprintf("%s (%d rows, %d workers)", name, o.memoryN, o.memoryW), target,
		fmt.Sprintf("max RSS %.1f MB (%.0f jobs/s, %s)", mb, res.jobsPerSec, res.wall.Round(time.Second)),
		passIf(res.maxRSSKB > 0 && mb <= 100)}}
}

type instantResult struct {
	jobsPerSec  float64
	firstToExit time.Duration
	wall        time.Duration
	cpu         time.Duration
	maxRSSKB    int64
	cpuPerJob   time.Duration
	ledger      ledgerCost // with --log-level info
}

// cpuLine is the child's CPU a job, and how many cores it kept busy from its first call
// to its exit.
func (r instantResult) cpuLine() string {
	return fmt.Sprintf("CPU %.0f µs a job (user+sys %s, %.2f cores)", float64(r.cpuPerJob)/float64(time.Microsecond),
		r.cpu.Round(time.Millisecond), r.cpu.Seconds()/r.firstToExit.Seconds())
}

// instantRun runs one child of users against the instant responder; dir is where its
// report and ledger go ("": the bench's temporary directory).
func instantRun(ctx context.Context, o *options, label string, users, workers int, logLevel, dir string) (instantResult, error) {
	simCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv, err := startSim(simCtx, quotasim.Config{}) // instant mode, unlimited
	if err != nil {
		return instantResult{}, err
	}
	defer srv.Close()
	csv, err := writeCSV(o, label+".csv", label+"-user-", 1, users)
	if err != nil {
		return instantResult{}, err
	}
	logf("%s: %d users against the instant responder %s", label, users, srv.URL)
	a := offArgs(csv, workers)
	a.logLevel, a.dir = logLevel, dir
	c, err := startChild(o, srv.URL, label, a)
	if err != nil {
		return instantResult{}, err
	}
	stopOnCancel := context.AfterFunc(ctx, func() { _ = c.cmd.Process.Signal(os.Interrupt) })
	defer stopOnCancel()
	if err := c.wait(15*time.Minute, false); err != nil {
		return instantResult{}, err
	}
	exit := time.Now()
	st := srv.Sim.Stats()
	if st.Successes != int64(users) {
		return instantResult{}, fmt.Errorf("simulator saw %d successes for %d users; summary: %s", st.Successes, users, c.summary())
	}
	ps := c.cmd.ProcessState
	r := instantResult{
		firstToExit: exit.Sub(st.FirstCall),
		wall:        exit.Sub(c.start),
		cpu:         ps.UserTime() + ps.SystemTime(),
		maxRSSKB:    c.maxRSSKB(),
		ledger:      parseLedgerCost(c.stderr.String()),
	}
	r.jobsPerSec = float64(users) / r.firstToExit.Seconds()
	r.cpuPerJob = r.cpu / time.Duration(users)
	return r, nil
}

// ---- line 7: start-up ----

func lineStartup(ctx context.Context, o *options) []row {
	const n, name = "7", "process start → first Cognito request"
	target := "≤ 100 ms (median)"
	var ds []time.Duration
	for i := range o.startRuns {
		d, err := startupOnce(ctx, o, i)
		if err != nil {
			return errRow(n, name, target, err)
		}
		ds = append(ds, d)
	}
	slices.Sort(ds)
	med := ds[len(ds)/2]
	var all []string
	for _, d := range ds {
		all = append(all, fmt.Sprintf("%.1f", float64(d.Microseconds())/1000))
	}
	return []row{{n, fmt.Sprintf("%s (%d runs)", name, len(ds)), target,
		fmt.Sprintf("median %.1f ms (all: %s ms)", float64(med.Microseconds())/1000, strings.Join(all, ", ")),
		passIf(med <= 100*time.Millisecond)}}
}

func startupOnce(ctx context.Context, o *options, i int) (time.Duration, error) {
	simCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv, err := startSim(simCtx, quotasim.Config{})
	if err != nil {
		return 0, err
	}
	defer srv.Close()
	csv, err := writeCSV(o, fmt.Sprintf("line7-%d.csv", i), "l7-user-", 1, 10)
	if err != nil {
		return 0, err
	}
	// Default limiter settings (--rate 20, burst 1): the first call is not held back.
	c, err := startChild(o, srv.URL, fmt.Sprintf("line7-%d", i), runArgs{csv: csv, rate: 20, adaptive: true, workers: o.workers})
	if err != nil {
		return 0, err
	}
	if err := c.wait(time.Minute, false); err != nil {
		return 0, err
	}
	st := srv.Sim.Stats()
	if st.FirstCall.IsZero() {
		return 0, errors.New("no call reached the simulator")
	}
	return st.FirstCall.Sub(c.start), nil
}
