package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ledgerCost is the child's "intent ledger: cost of durability" line (INFO, at the end of
// a run with the file ledger): how many intents, in how many fsyncs, how long a group's
// write and fsync took in the run, and the share of the claimers' time (the workers and
// the jobs claimed ahead of a call slot) spent waiting for their intents to be durable,
// measured by the ledger itself.
type ledgerCost struct {
	found           bool
	Records         int64   `json:"ledger_records"`
	Fsyncs          int64   `json:"ledger_fsyncs"`
	RecordsPerFsync float64 `json:"records_per_fsync"`
	FsyncMs         float64 `json:"fsync_ms_mean"`
	WaitShare       float64 `json:"workers_waiting_on_ledger"`
}

// parseLedgerCost finds the line in a child's stderr (JSON logs).
func parseLedgerCost(stderr string) ledgerCost {
	for l := range strings.SplitSeq(stderr, "\n") {
		var c struct {
			Msg string `json:"msg"`
			ledgerCost
		}
		if json.Unmarshal([]byte(l), &c) == nil && c.Msg == "intent ledger: cost of durability" {
			c.found = true
			return c.ledgerCost
		}
	}
	return ledgerCost{}
}

func (c ledgerCost) String() string {
	if !c.found {
		return "the ledger's cost: not logged"
	}
	return fmt.Sprintf("%d intents in %d ledger fsyncs: %.2f jobs per actual fsync (a group's write+fsync %.3f ms in "+
		"the run); the claimers waited on the ledger %.0f%% of their time", c.Records, c.Fsyncs, c.RecordsPerFsync,
		c.FsyncMs, 100*c.WaitShare)
}
