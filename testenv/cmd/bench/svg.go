package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// chart is the picture of one multi-process run, drawn from the simulator's per-client
// per-second counters, in three panels on one time axis: the fleet's successes stacked
// by process, against Q; the fleet's throttles; and each process's own rate (so peers
// moving in step are visible).
// It is also the JSON written beside the SVG, which -render draws again.
type chart struct {
	Title    string  `json:"title"`
	Subtitle string  `json:"subtitle"`
	Q        float64 `json:"q"`
	// Series are the clients to draw, in order; names not in Stats.PerClient are
	// drawn as zero.
	Series []string `json:"series"`
	// From, To bound the seconds drawn (Unix, [From, To)).
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Marks are vertical lines at Unix seconds (warm-up end, replicas added/killed).
	Marks []chartMark `json:"marks,omitempty"`
	// Bands shade judged windows of the fleet panel: green in the target, red not.
	Bands []chartBand `json:"bands,omitempty"`
	// Stats are the simulator's counters (the per-user map left out).
	Stats quotasim.Stats `json:"stats"`
}

type chartMark struct {
	At    float64 `json:"at"` // Unix seconds
	Label string  `json:"label"`
}

type chartBand struct {
	From int64 `json:"from"` // Unix seconds [From, To)
	To   int64 `json:"to"`
	OK   bool  `json:"ok"`
}

const (
	svgW, svgH        = 960, 760
	plotL, plotR      = 60, 760  // x range of the panels; the legend is to the right
	topT, topB        = 80, 300  // fleet successes, stacked
	midT, midB        = 350, 460 // fleet throttles
	botT, botB        = 510, 720 // per process
	smoothSeconds     = 5        // moving average of the per-process panel
	maxLegendEntries  = 12
	throttleColour    = "#c0392b"
	quotaColour       = "#333"
	perProcessOpacity = 0.8
)

// colour i of n: golden-angle hues, so neighbours differ.
func colour(i int) string {
	return fmt.Sprintf("hsl(%.0f,62%%,48%%)", math.Mod(float64(i)*137.508+200, 360))
}

// active is the range of seconds [lo, hi) of [from, to) in which a client was counted.
func active(cs quotasim.ClientStats, from, to int64) (lo, hi int) {
	if len(cs.PerSecond) == 0 {
		return 0, 0
	}
	first, last := cs.PerSecond[0].Unix, cs.PerSecond[len(cs.PerSecond)-1].Unix
	lo, hi = int(max(first, from)-from), int(min(last+1, to)-from)
	if hi < lo {
		return 0, 0
	}
	return lo, hi
}

// seconds returns a client's successes and throttles for each second in [from, to).
func seconds(cs quotasim.ClientStats, from, to int64) (succ, thr []float64) {
	n := max(to-from, 0)
	succ, thr = make([]float64, n), make([]float64, n)
	for _, ps := range cs.PerSecond {
		if i := ps.Unix - from; i >= 0 && i < n {
			succ[i] += float64(ps.Successes)
			thr[i] += float64(ps.Throttled)
		}
	}
	return succ, thr
}

// smooth is a centred moving average over w seconds (shorter at the ends).
func smooth(v []float64, w int) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		lo, hi := max(0, i-w/2), min(len(v), i+w/2+1)
		var s float64
		for _, x := range v[lo:hi] {
			s += x
		}
		out[i] = s / float64(hi-lo)
	}
	return out
}

// niceStep picks a tick step of 1, 2 or 5 × 10^k giving about n ticks up to top.
func niceStep(top float64, n int) float64 {
	raw := top / float64(n)
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// render writes the chart as a self-contained SVG (no scripts, fonts or links).
func (c chart) render(w io.Writer) error {
	n := int(c.To - c.From)
	if n < 2 {
		return fmt.Errorf("chart %q: %d seconds to draw", c.Title, n)
	}
	succ := make([][]float64, len(c.Series))
	var fleetThr []float64
	for i, name := range c.Series {
		s, t := seconds(c.Stats.PerClient[name], c.From, c.To)
		succ[i] = s
		if fleetThr == nil {
			fleetThr = make([]float64, n)
		}
		for k := range t {
			fleetThr[k] += t[k]
		}
	}
	// Throttles of clients that are not drawn (e.g. "default") still count for the fleet.
	for name, cs := range c.Stats.PerClient {
		if !slices.Contains(c.Series, name) {
			_, t := seconds(cs, c.From, c.To)
			for k := range t {
				fleetThr[k] += t[k]
			}
		}
	}
	stack := make([][]float64, len(c.Series)+1) // stack[i] = sum of series < i
	stack[0] = make([]float64, n)
	for i := range c.Series {
		stack[i+1] = make([]float64, n)
		for k := range n {
			stack[i+1][k] = stack[i][k] + succ[i][k]
		}
	}
	top := c.Q
	for k := range n {
		top = max(top, stack[len(c.Series)][k])
	}
	top *= 1.08
	// The throttles' axis fits the run, not its first seconds: a start-up spike would
	// flatten everything after it. Bars above the axis are cut and labelled.
	midTop := max(percentile(fleetThr, 0.95)*1.5, 1)
	type line struct {
		lo int
		v  []float64
	}
	perProc := make([]line, len(c.Series))
	botTop := 0.0
	for i, name := range c.Series {
		lo, hi := active(c.Stats.PerClient[name], c.From, c.To)
		if hi > lo {
			perProc[i] = line{lo, smooth(succ[i][lo:hi], smoothSeconds)}
			botTop = max(botTop, slices.Max(perProc[i].v))
		}
	}
	botTop = max(botTop*1.1, 0.5)

	x := func(k float64) float64 { return plotL + (plotR-plotL)*k/float64(n) }
	yTop := func(v float64) float64 { return topB - (topB-topT)*v/top }
	yMid := func(v float64) float64 { return midB - (midB-midT)*v/midTop }
	yBot := func(v float64) float64 { return botB - (botB-botT)*v/botTop }

	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	p(`<rect width="100%%" height="100%%" fill="#fff"/>` + "\n")
	p(`<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", plotL, esc(c.Title))
	p(`<text x="%d" y="42" fill="#444">%s</text>`+"\n", plotL, esc(c.Subtitle))

	for _, bd := range c.Bands {
		fill := "#2ca02c"
		if !bd.OK {
			fill = throttleColour
		}
		x0, x1 := x(float64(max(bd.From, c.From)-c.From)), x(float64(min(bd.To, c.To)-c.From))
		if x1 > x0 {
			p(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="0.10"/>`+"\n", x0, topT, x1-x0, topB-topT, fill)
		}
	}
	axes := func(t, bot float64, yTop float64, y func(float64) float64, label, caption string) {
		step := niceStep(yTop, 5)
		for v := 0.0; v <= yTop+1e-9; v += step {
			p(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e4e4e4"/>`+"\n", plotL, plotR, y(v), y(v))
			p(`<text x="%d" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n", plotL-6, y(v)+4, trimFloat(v))
		}
		tstep := int(niceStep(float64(n), 8))
		for k := 0; k <= n; k += max(tstep, 1) {
			p(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#999"/>`+"\n", x(float64(k)), x(float64(k)), bot, bot+4)
			p(`<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">%d s</text>`+"\n", x(float64(k)), bot+17, k)
		}
		p(`<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="none" stroke="#999"/>`+"\n", plotL, t, plotR-plotL, bot-t)
		p(`<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle" fill="#333">%s</text>`+"\n", (t+bot)/2, esc(label))
		p(`<text x="%d" y="%.1f" fill="#333">%s</text>`+"\n", plotL, t-8, esc(caption))
	}
	axes(topT, topB, top, yTop, "req/s", "fleet: successes per second, stacked by process")
	axes(midT, midB, midTop, yMid, "req/s", "fleet: throttled calls per second")
	axes(botT, botB, botTop, yBot, "req/s", fmt.Sprintf("each process: successes per second (%d-s moving average)", smoothSeconds))

	// Stacked areas, each second a step.
	for i := range c.Series {
		var pts []string
		for k := range n {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(float64(k)), yTop(stack[i+1][k]), x(float64(k+1)), yTop(stack[i+1][k])))
		}
		for k := n - 1; k >= 0; k-- {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(float64(k+1)), yTop(stack[i][k]), x(float64(k)), yTop(stack[i][k])))
		}
		p(`<polygon points="%s" fill="%s" fill-opacity="0.85"><title>%s</title></polygon>`+"\n", strings.Join(pts, " "), colour(i), esc(c.Series[i]))
	}
	p(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4"/>`+"\n", plotL, plotR, yTop(c.Q), yTop(c.Q), quotaColour)
	p(`<text x="%d" y="%.1f" text-anchor="end" fill="%s">Q = %s</text>`+"\n", plotR-4, yTop(c.Q)-4, quotaColour, trimFloat(c.Q))

	// Fleet throttles, one bar a second.
	peak, peakAt := 0.0, 0
	for k, v := range fleetThr {
		if v <= 0 {
			continue
		}
		if v > peak {
			peak, peakAt = v, k
		}
		h := min(v, midTop)
		p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x(float64(k))+0.5, yMid(h), max(x(1)-x(0)-1, 0.5), midB-yMid(h), throttleColour)
	}
	if peak > midTop {
		p(`<text x="%d" y="%d" text-anchor="end" font-size="11" fill="%s">bars cut at %s/s; highest %s/s at %d s</text>`+"\n",
			plotR-4, midT+13, throttleColour, trimFloat(midTop), trimFloat(peak), peakAt)
	}

	// Per-process rates, points at the middle of each second, while the process ran.
	for i, l := range perProc {
		if len(l.v) == 0 {
			continue
		}
		var pts []string
		for k, v := range l.v {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(float64(l.lo+k)+0.5), yBot(v)))
		}
		p(`<polyline points="%s" fill="none" stroke="%s" stroke-width="1.2" stroke-opacity="%.1f"><title>%s</title></polyline>`+"\n",
			strings.Join(pts, " "), colour(i), perProcessOpacity, esc(c.Series[i]))
	}

	for _, m := range c.Marks {
		if m.At < float64(c.From) || m.At > float64(c.To) {
			continue
		}
		mx := x(m.At - float64(c.From))
		p(`<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#555" stroke-dasharray="3 3"/>`+"\n", mx, mx, topT, botB)
		p(`<text x="%.1f" y="%d" fill="#555" font-size="11">%s</text>`+"\n", mx+3, topT+14, esc(m.Label))
	}

	// Legend.
	lx, ly := plotR+16, topT
	p(`<rect x="%d" y="%d" width="18" height="10" fill="%s"/><text x="%d" y="%d">throttled/s</text>`+"\n", lx, ly-5, throttleColour, lx+24, ly+4)
	ly += 18
	p(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-dasharray="6 4"/><text x="%d" y="%d">quota Q</text>`+"\n", lx, lx+18, ly, ly, quotaColour, lx+24, ly+4)
	ly += 24
	for i, name := range c.Series {
		if i == maxLegendEntries-1 && len(c.Series) > maxLegendEntries {
			p(`<text x="%d" y="%d" fill="#555">… %d processes in all</text>`+"\n", lx, ly+4, len(c.Series))
			break
		}
		p(`<rect x="%d" y="%d" width="18" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", lx, ly-5, colour(i), lx+24, ly+4, esc(name))
		ly += 18
	}
	if len(c.Bands) > 0 {
		ly += 8
		p(`<rect x="%d" y="%d" width="18" height="10" fill="#2ca02c" fill-opacity="0.25"/><text x="%d" y="%d">judged, in target</text>`+"\n", lx, ly-5, lx+24, ly+4)
		ly += 18
		p(`<rect x="%d" y="%d" width="18" height="10" fill="%s" fill-opacity="0.25"/><text x="%d" y="%d">judged, outside</text>`+"\n", lx, ly-5, throttleColour, lx+24, ly+4)
	}
	p("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// percentile is the q-quantile of v (nearest rank).
func percentile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[max(0, min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1))]
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
