package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// ---- line 12: the ledger table's overhead ----

// lineLedgerOverhead runs the same campaign twice against the instant responder, limiter
// off: with the file ledger beside the report, then with --ledger-table on dynalite (a
// claim and an outcome per user, over HTTP to a Node process on the same 2 CPUs). The
// target is the table never being what limits a campaign: 5 × Q.
func lineLedgerOverhead(ctx context.Context, o *options) []row {
	const n, name = "12", "overhead: the ledger table on dynalite vs the file ledger"
	want := 5 * o.q
	target := fmt.Sprintf("table ≥ %.0f jobs/s (5 × Q)", want)
	srv, err := emu.StartDynamo(ctx, emu.WithTableDelay(0))
	if err != nil {
		return errRow(n, name, target, err)
	}
	defer srv.Close()
	if err := emu.CreateTable(ctx, emu.NewDynamoClient(srv.Endpoint), "bench-ledger",
		emu.TableOptions{HashKey: "pk", RangeKey: "sk"}); err != nil {
		return errRow(n, name, target, err)
	}
	file, err := ledgerRun(ctx, o, "line12-file", runArgs{})
	if err != nil {
		return errRow(n, name, target, err)
	}
	table, err := ledgerRun(ctx, o, "line12-table", runArgs{extra: []string{"--ledger-table", "bench-ledger"},
		env: emu.DynamoEnv(srv.Endpoint)})
	if err != nil {
		return errRow(n, name, target, err)
	}
	return []row{{n, fmt.Sprintf("%s (%d users, %d workers)", name, o.ledgerN, o.workers), target,
		fmt.Sprintf("table %.0f jobs/s, file %.0f jobs/s (%.1f ms a job with the table, %.2f ms with the file)",
			table, file, 1000/table*float64(o.workers), 1000/file*float64(o.workers)), passIf(table >= want)}}
}

// ledgerRun is one campaign of line 12: its jobs/s from the first call to the exit.
func ledgerRun(ctx context.Context, o *options, label string, a runArgs) (float64, error) {
	sim, err := startSim(ctx, quotasim.Config{}) // instant mode, unlimited
	if err != nil {
		return 0, err
	}
	defer sim.Close()
	csv, err := writeCSV(o, label+".csv", label+"-user-", 1, o.ledgerN)
	if err != nil {
		return 0, err
	}
	off := offArgs(csv, o.workers)
	a.csv, a.rate, a.burst, a.workers = off.csv, off.rate, off.burst, off.workers
	logf("%s: %d users against the instant responder %s", label, o.ledgerN, sim.URL)
	c, err := startChild(o, sim.URL, label, a)
	if err != nil {
		return 0, err
	}
	if err := c.wait(10*time.Minute, false); err != nil {
		return 0, err
	}
	exit := time.Now()
	st := sim.Sim.Stats()
	if st.Successes != int64(o.ledgerN) {
		return 0, fmt.Errorf("simulator saw %d successes for %d users; summary: %s", st.Successes, o.ledgerN, c.summary())
	}
	return float64(o.ledgerN) / exit.Sub(st.FirstCall).Seconds(), nil
}
