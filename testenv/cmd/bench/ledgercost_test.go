package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseLedgerCost(t *testing.T) {
	t.Parallel()
	stderr := `{"time":"2026-12-05T04:20:00Z","level":"INFO","msg":"progress","done":10}
{"time":"2026-12-05T04:20:01Z","level":"INFO","msg":"intent ledger: cost of durability","ledger_records":100000,"ledger_fsyncs":25911,"records_per_fsync":3.86,"fsync_ms_mean":1.078,"workers_waiting_on_ledger":0.6592}
summary: 100000 rows`
	c := parseLedgerCost(stderr)
	require.Equal(t, ledgerCost{found: true, Records: 100000, Fsyncs: 25911, RecordsPerFsync: 3.86, FsyncMs: 1.078, WaitShare: 0.6592}, c)
	require.Equal(t, "100000 intents in 25911 ledger fsyncs: 3.86 jobs per actual fsync (a group's write+fsync 1.078 ms "+
		"in the run); the claimers waited on the ledger 66% of their time", c.String())
	require.Equal(t, "the ledger's cost: not logged", parseLedgerCost("summary: 3 rows").String())
}
