package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/stretchr/testify/require"
)

func TestHasFlag(t *testing.T) {
	t.Parallel()
	help := `OPTIONS:
   --rate float                             ResendConfirmationCode requests per second (default: 20) [$COGNITO_RESEND_RATE]
   --yes, --force                           don't ask for confirmation
   --retry-unknown                          with --resume, call users reported unknown again
   --reserve-pool string                    (a made-up flag that merely starts like --reserve)
   --help, -h                               show help
`
	require.True(t, hasFlag(help, "rate"))
	require.True(t, hasFlag(help, "yes"))
	require.True(t, hasFlag(help, "force"), "an alias")
	require.True(t, hasFlag(help, "retry-unknown"))
	require.False(t, hasFlag(help, "resume"), "mentioned in a usage text, not listed")
	require.False(t, hasFlag(help, "reserve"), "a longer flag's prefix")
	require.False(t, hasFlag(help, "fleet-rate"))
	require.True(t, hasFlag(help+"   --reserve float   capacity left free\n", "reserve"))
}

func secs(from int64, succ ...int64) []quotasim.SecondStats {
	out := make([]quotasim.SecondStats, len(succ))
	for i, s := range succ {
		out[i] = quotasim.SecondStats{Unix: from + int64(i), Successes: s}
	}
	return out
}

func TestJudgeMarks(t *testing.T) {
	t.Parallel()
	const t0 = 1_000
	// 30 s: phase 1 from t0 (20/s), phase 2 from t0+12.3 s (18/s for 5 s then 25/s).
	var rates []int64
	for s := range 30 {
		switch {
		case s < 13:
			rates = append(rates, 20)
		case s < 23:
			rates = append(rates, 18)
		default:
			rates = append(rates, 25)
		}
	}
	st := quotasim.Stats{PerSecond: secs(t0, rates...)}
	st.PerSecond[7].Throttled = 2
	changes := []time.Time{time.Unix(t0, 0), time.Unix(t0+12, 300e6)}
	marks, thr, calls := judgeMarks(st, changes, 20)
	// Phase 1: [t0+5, t0+10) only ([t0+10, t0+15) crosses the change at t0+12).
	// Phase 2 starts judging at ceil(t0+12.3)+5 = t0+18: [18,23) at 18/s, [23,28) at 25/s;
	// [28,33) passes the last complete second (t0+29 is the partial last one).
	require.Equal(t, []mark{
		{at: t0 + 10, rate: 20, ok: true},
		{at: t0 + 23, rate: 18, ok: true},
		{at: t0 + 28, rate: 25, ok: false},
	}, marks)
	require.EqualValues(t, 2, thr)
	require.EqualValues(t, 5*20+2+5*18+5*25, calls)

	marks, _, _ = judgeMarks(quotasim.Stats{}, changes, 20)
	require.Empty(t, marks)
}

func TestCeilUnix(t *testing.T) {
	t.Parallel()
	require.EqualValues(t, 10, ceilUnix(time.Unix(10, 0)))
	require.EqualValues(t, 11, ceilUnix(time.Unix(10, 1)))
}

func TestSmoothAndNiceStep(t *testing.T) {
	t.Parallel()
	require.Equal(t, []float64{1.5, 2, 3, 4, 4.5}, smooth([]float64{1, 2, 3, 4, 5}, 3))
	require.Equal(t, []float64{1}, smooth([]float64{1}, 5))
	require.Equal(t, 5.0, niceStep(22, 5))
	require.Equal(t, 10.0, niceStep(60, 8))
	require.Equal(t, 0.1, niceStep(0.5, 5))
}

// The chart is well-formed, self-contained SVG with one area and one rate line per
// process, the fleet's throttles, and its marks.
func TestChartRendersValidSVG(t *testing.T) {
	t.Parallel()
	const t0 = 5_000
	st := quotasim.Stats{PerClient: map[string]quotasim.ClientStats{
		"p00":     {PerSecond: secs(t0, 10, 12, 9, 11, 10, 10)},
		"p01":     {PerSecond: secs(t0+2, 8, 9, 10, 11)}, // starts later
		"default": {PerSecond: []quotasim.SecondStats{{Unix: t0 + 1, Throttled: 7}}},
	}}
	c := chart{Title: "Line 8 — 2 processes <test> & Q", Subtitle: "sub", Q: 20,
		Series: []string{"p00", "p01", "p02-never-seen"}, Stats: st, From: t0, To: t0 + 6,
		Marks: []chartMark{{t0 + 2, "warm-up ends"}, {t0 + 99, "outside"}}}
	var b bytes.Buffer
	require.NoError(t, c.render(&b))
	svg := b.String()

	dec := xml.NewDecoder(strings.NewReader(svg))
	counts := map[string]int{}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "well-formed XML")
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
			for _, a := range se.Attr {
				require.NotContains(t, []string{"href", "onload", "onclick"}, a.Name.Local, "self-contained, no scripts or links")
			}
		}
	}
	require.Equal(t, 3, counts["polygon"], "one stacked area per series")
	require.Equal(t, 2, counts["polyline"], "one rate line per series that was seen")
	require.Equal(t, 2, strings.Count(svg, `fill="`+throttleColour+`"/>`), "one throttle bar (second 1), and the legend")
	require.Contains(t, svg, "&lt;test&gt; &amp; Q", "text is escaped")
	require.Contains(t, svg, "warm-up ends")
	require.NotContains(t, svg, "outside", "a mark outside the range is not drawn")
	require.Contains(t, svg, "Q = 20")

	// The fleet's throttles include clients that are not drawn: 7 throttles at second 1.
	_, thr := seconds(st.PerClient["default"], t0, t0+6)
	require.Equal(t, []float64{0, 7, 0, 0, 0, 0}, thr)

	require.Error(t, chart{From: t0, To: t0 + 1}.render(io.Discard), "nothing to draw")

	// A start-up spike does not set the throttles' axis: it is cut and labelled.
	var spiky []quotasim.SecondStats
	for i := range 20 {
		spiky = append(spiky, quotasim.SecondStats{Unix: t0 + int64(i), Successes: 20, Throttled: 1})
	}
	spiky[0].Throttled = 200
	b.Reset()
	require.NoError(t, chart{Q: 20, Series: []string{"p"}, From: t0, To: t0 + 20,
		Stats: quotasim.Stats{PerClient: map[string]quotasim.ClientStats{"p": {PerSecond: spiky}}}}.render(&b))
	require.Contains(t, b.String(), `highest 200/s at 0 s</text>`)
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	v := []float64{200, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	require.Equal(t, 19.0, percentile(v, 0.95))
	require.Equal(t, 200.0, percentile(v, 1))
	require.Equal(t, 0.0, percentile(nil, 0.5))
	require.Equal(t, 200.0, v[0], "the input is not sorted in place")
}

func TestBaselineNoWorse(t *testing.T) {
	t.Parallel()
	b := baseline{util: 1.0, thr: 0.018, when: "then"} // allows util ≥ 0.98, throttled ≤ 3.0 %
	w := func(succ, thr float64) window { return window{succPerSec: succ, thrPerSec: thr} }
	require.True(t, b.noWorse(w(20, 0.4), 20))   // 1.96 % throttled
	require.True(t, b.noWorse(w(19.6, 0), 20))   // util 0.98
	require.False(t, b.noWorse(w(19.5, 0), 20))  // util 0.975
	require.False(t, b.noWorse(w(20, 0.65), 20)) // 3.15 % > 1.8 + 1.2
	require.Contains(t, b.verdict(w(20, 1), 20), "WORSE")
}
