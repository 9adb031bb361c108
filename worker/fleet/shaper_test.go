package fleet

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestShaper(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	const ms = time.Millisecond

	t.Run("a newcomer starts at half its share and ramps to it over the ramp", func(t *testing.T) {
		t.Parallel()
		s := shaper{ramp: time.Second}
		require.InDelta(t, 5, s.start(at(0), 10), 1e-9)
		require.InDelta(t, 7.5, s.at(at(500*ms)), 1e-9)
		require.InDelta(t, 10, s.at(at(time.Second)), 1e-9)
		require.InDelta(t, 10, s.at(at(time.Hour)), 1e-9)
	})

	t.Run("a lower target applies at once, even mid-ramp", func(t *testing.T) {
		t.Parallel()
		s := shaper{ramp: time.Second}
		s.start(at(0), 10)
		require.InDelta(t, 2.5, s.update(at(250*ms), 2.5), 1e-9)
		require.InDelta(t, 2.5, s.at(at(time.Hour)), 1e-9)
	})

	t.Run("a higher target ramps from where the share is", func(t *testing.T) {
		t.Parallel()
		s := shaper{ramp: time.Second}
		s.cut(at(0), 2.5)
		require.InDelta(t, 2.5, s.update(at(0), 20.0/3), 1e-9, "no jump")
		require.InDelta(t, 2.5+(20.0/3-2.5)/4, s.update(at(250*ms), 20.0/3), 1e-9, "the same ramp carries on")
		require.InDelta(t, 20.0/3, s.update(at(time.Second), 20.0/3), 1e-9)
		// A still higher target mid-ramp: a new ramp from the share then.
		s.cut(at(10*time.Second), 4)
		s.update(at(10*time.Second), 8)
		mid := s.update(at(10*time.Second+500*ms), 10) // 6, now heading to 10
		require.InDelta(t, 6, mid, 1e-9)
		require.InDelta(t, 8, s.at(at(11*time.Second)), 1e-9)
		require.InDelta(t, 10, s.at(at(11*time.Second+500*ms)), 1e-9)
	})

	t.Run("never above the target", func(t *testing.T) {
		t.Parallel()
		s := shaper{ramp: time.Second}
		s.start(at(0), 4)
		for d := time.Duration(0); d < 3*time.Second; d += 50 * ms {
			require.LessOrEqual(t, s.update(at(d), 4), 4.0)
		}
	})
}
