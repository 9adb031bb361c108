package engine_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// rowLedger is a fake ledger whose report row is the outcome (as the file ledger's).
type rowLedger struct{ *fakeLedger }

func (rowLedger) RowIsOutcome() bool { return true }

// A ledger whose row is the outcome is not asked to finish each row (the file ledger's
// Finish is a no-op: a goroutine and a settle budget a row for nothing); any other is,
// once a claimed row.
func TestEngineFinishesOnlyWhereTheLedgerRecordsOutcomes(t *testing.T) {
	t.Parallel()
	f := newEngineFixture("u0", "u1", "u2")
	f.engine.Ledger = rowLedger{&fakeLedger{log: f.log}}
	sum, err := f.run(t, t.Context())
	require.NoError(t, err)
	require.Equal(t, 3, sum.Rows)
	require.Equal(t, 3, f.log.count("intend:"))
	require.Zero(t, f.log.count("finish:"))

	g := newEngineFixture("u0", "u1", "u2")
	g.engine.Ledger = &fakeLedger{log: g.log}
	sum, err = g.run(t, t.Context())
	require.NoError(t, err)
	require.Equal(t, 3, sum.Rows)
	require.Equal(t, 3, g.log.count("finish:"))
}
