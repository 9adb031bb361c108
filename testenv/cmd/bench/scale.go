package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/records"
)

// ---- lines 15 and 16: 10 M rows in 256 MB ----

// scaleLimitKB is the peak RSS a 10 M-row campaign may reach, KiB (issue 18: 256 MB,
// 256 × 10^6 bytes).
const scaleLimitKB = 256_000_000 / 1024

// rss prints a peak RSS in KiB as MB (10^6 bytes) and MiB.
func rss(kb int64) string {
	return fmt.Sprintf("%.1f MB (%.1f MiB)", float64(kb)*1024/1e6, float64(kb)/1024)
}

// lineScaleDryRun is a dry run of a scaleN-row CSV: it reads every row through the admit
// rule (the census), so its admit set holds every user.
func lineScaleDryRun(ctx context.Context, o *options) []row {
	const n, name = "15", "memory and time: dry run of a big CSV"
	target := "peak RSS ≤ 256 MB, ≤ 15 s"
	csv, err := writeCSV(o, "line15.csv", "line15-user-", 1, o.scaleN)
	if err != nil {
		return errRow(n, name, target, err)
	}
	defer os.Remove(csv)
	res, err := bigRun(ctx, o, "line15", csv, "--dry-run")
	if err != nil {
		return errRow(n, name, target, err)
	}
	return []row{{n, fmt.Sprintf("%s (%d rows)", name, o.scaleN), target,
		fmt.Sprintf("max RSS %s, %s (user+sys CPU %s)", rss(res.maxRSSKB),
			res.wall.Round(10*time.Millisecond), res.cpu.Round(10*time.Millisecond)),
		passIf(res.maxRSSKB > 0 && res.maxRSSKB <= scaleLimitKB && res.wall <= 15*time.Second)}}
}

// lineScaleResume is --resume --dry-run of a scaleN-row CSV whose report has a `sent`
// row for every line (written here, with the record that binds it to the CSV): it loads
// the resume state of every line and user, then checks each CSV line against its row.
func lineScaleResume(ctx context.Context, o *options) []row {
	const n, name = "16", "memory: --resume --dry-run of a big CSV and its report"
	target := "peak RSS ≤ 256 MB"
	csv, err := writeCSV(o, "line16.csv", "line16-user-", 1, o.scaleN)
	if err != nil {
		return errRow(n, name, target, err)
	}
	defer os.Remove(csv)
	report := filepath.Join(o.tmp, "line16-report.csv")
	if err := writeSentReport(report, "line16-user-", o.scaleN); err != nil {
		return errRow(n, name, target, err)
	}
	defer os.Remove(report)
	in, err := records.CSVInput(csv)
	if err == nil {
		err = records.WriteInput(report, in, time.Now(), true)
	}
	if err != nil {
		return errRow(n, name, target, err)
	}
	res, err := bigRun(ctx, o, "line16", csv, "--resume", "--dry-run")
	if err != nil {
		return errRow(n, name, target, err)
	}
	return []row{{n, fmt.Sprintf("%s (%d rows)", name, o.scaleN), target,
		fmt.Sprintf("max RSS %s, %s (user+sys CPU %s)", rss(res.maxRSSKB),
			res.wall.Round(10*time.Millisecond), res.cpu.Round(10*time.Millisecond)),
		passIf(res.maxRSSKB > 0 && res.maxRSSKB <= scaleLimitKB)}}
}

// writeSentReport writes a report with one `sent` row for each line of writeCSV's CSV
// (header on line 1: user i on line i+1).
func writeSentReport(path, prefix string, n int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.WriteString(strings.Join(records.Columns, ",") + "\n")
	buf := make([]byte, 0, 128)
	for i := 1; i <= n; i++ {
		buf = append(buf[:0], prefix...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, ",sent,1,,,EMAIL,u***@e***.com,email,,"...)
		buf = strconv.AppendInt(buf, int64(i+1), 10)
		buf = append(buf, ",2026-12-05T03:08:47Z,2026-12-05T03:08:47Z\n"...)
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type bigResult struct {
	wall, cpu time.Duration
	maxRSSKB  int64
}

// bigRun runs the binary on csv with args (a dry run: no call is made, so no
// simulator) and measures it.
func bigRun(ctx context.Context, o *options, label, csv string, args ...string) (bigResult, error) {
	logf("%s: %s %s", label, strings.Join(args, " "), csv)
	c, err := startChild(o, "http://127.0.0.1:1", label, runArgs{csv: csv, rate: 20, workers: o.workers, extra: args})
	if err != nil {
		return bigResult{}, err
	}
	stopOnCancel := context.AfterFunc(ctx, func() { _ = c.cmd.Process.Signal(os.Interrupt) })
	defer stopOnCancel()
	if err := c.wait(10*time.Minute, false); err != nil {
		return bigResult{}, err
	}
	ps := c.cmd.ProcessState
	return bigResult{wall: time.Since(c.start), cpu: ps.UserTime() + ps.SystemTime(), maxRSSKB: c.maxRSSKB()}, nil
}
