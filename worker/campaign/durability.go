package campaign

import (
	"log/slog"
	"math"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/records"
)

// logLedgerCost says what the file ledger's intents cost the run (INFO, at its end):
// its records and fsyncs, the mean time a group took to write and fsync, and the share
// of the claimers' time (the workers and the jobs claimed ahead of a call slot,
// engine.Engine.Claimers) spent waiting for their intents to be durable. Since jobs claim
// ahead, that wait overlaps the calls in flight instead of holding a call slot; near 1,
// every claimer waits on the disk and it bounds the run; well under 1, it does not.
func logLedgerCost(log *slog.Logger, st records.LedgerStats, workers int, run time.Duration) {
	if st.Records == 0 {
		return
	}
	perSync, syncMs := 0.0, 0.0
	if st.Syncs > 0 {
		perSync = float64(st.Records) / float64(st.Syncs)
		syncMs = float64(st.SyncTime) / float64(st.Syncs) / float64(time.Millisecond)
	}
	share := 0.0
	if workers > 0 && run > 0 {
		share = float64(st.Waited) / (float64(workers) * float64(run))
	}
	log.Info("intent ledger: cost of durability", "ledger_records", st.Records, "ledger_fsyncs", st.Syncs,
		"records_per_fsync", round2(perSync), "fsync_ms_mean", round3(syncMs),
		"workers_waiting_on_ledger", round4(share))
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
func round4(f float64) float64 { return math.Round(f*10000) / 10000 }
