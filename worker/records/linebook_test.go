package records

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// TestLineBookDenseMatchesSets drives a dense book (CSV line numbers in arrays) and a
// book of hash sets with the same random operations — refs that are line numbers, in
// several chunks, and refs that are not ("012", "m7") — and requires the same answers:
// tags (every status, both flags, call counts past the tag byte's), fingerprints, len.
func TestLineBookDenseMatchesSets(t *testing.T) {
	t.Parallel()
	require.Less(t, len(job.Statuses), byteStatusMask+1, "a dense line's tag byte holds the status in 4 bits")
	for seed := range uint64(10) {
		r := rand.New(rand.NewPCG(seed, 3))
		dense, sets := newLineBook(true), newLineBook(false)
		ref := func() string {
			switch r.IntN(10) {
			case 0:
				return "0" + strconv.Itoa(r.IntN(50)) // not canonical: kept in the sets
			case 1:
				return "m" + strconv.Itoa(r.IntN(50))
			}
			return strconv.Itoa(1 + r.IntN(3)*chunkLines + r.IntN(200)) // three chunks
		}
		for range 20000 {
			ref := ref()
			switch r.IntN(3) {
			case 0:
				tag := uint32(1+r.IntN(len(job.Statuses))) | uint32(r.IntN(4))<<6 // status, retry, waiting
				if r.IntN(4) == 0 {
					tag |= uint32(r.IntN(9)) << tagCallShift
				}
				dense.setTag(ref, tag)
				sets.setTag(ref, tag)
			case 1:
				fp := 1 + r.Uint32N(1<<31)
				dense.setFingerprint(ref, fp)
				sets.setFingerprint(ref, fp)
			case 2:
				wt, wok := sets.tag(ref)
				gt, gok := dense.tag(ref)
				require.Equal(t, wok, gok, ref)
				require.Equal(t, wt, gt, "seed %d ref %s", seed, ref)
				wf, wfok := sets.fingerprint(ref)
				gf, gfok := dense.fingerprint(ref)
				require.Equal(t, wfok, gfok, ref)
				require.Equal(t, wf, gf, ref)
			}
			require.Equal(t, sets.len(), dense.len())
		}
		require.NotZero(t, dense.n, "line numbers were kept densely")
		require.NotEmpty(t, dense.calls, "call counts past the tag byte were kept")
	}
}

// TestLineBookUnknownLineCostsNothing: asking about a line far past the last one makes
// no chunk.
func TestLineBookUnknownLineCostsNothing(t *testing.T) {
	t.Parallel()
	b := newLineBook(true)
	_, ok := b.tag("4000000000")
	require.False(t, ok)
	_, ok = b.fingerprint("4000000000")
	require.False(t, ok)
	require.Empty(t, b.chunks)
}
