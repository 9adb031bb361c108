package reportset

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// The HTML page: one self-contained file a manager can open — inline CSS and SVG, no
// script, no font, image or style from anywhere (a Content-Security-Policy of
// default-src 'none' says so to the browser too). html/template escapes every username,
// message and path: they are untrusted input.

//go:embed page.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"f3":  func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) },
	"pct": pct,
}).Parse(pageSource))

// PageOptions shape the HTML page.
type PageOptions struct {
	Title     string // default "cognito-resend campaign"
	Generator string // who made the page, e.g. "cognito-resend v1.2.3"
	Buckets   int    // most buckets of the timeline (default 60)
	TopCodes  int    // error codes listed (default 10)
}

// WriteHTML writes the campaign as one HTML page.
func (s *Set) WriteHTML(w io.Writer, opts PageOptions) error {
	if opts.Title == "" {
		opts.Title = "cognito-resend campaign"
	}
	if opts.Buckets <= 0 {
		opts.Buckets = 60
	}
	if opts.TopCodes <= 0 {
		opts.TopCodes = 10
	}
	sum := s.Summary()
	p := page{Opts: opts, S: sum, Span: humanSpan(sum.Span()),
		Sent: sum.Statuses[job.StatusSent], Failed: sum.Statuses[job.StatusFailed],
		Invitations: sum.InvitationUsers(), InvitationsSent: sum.Invitations[job.StatusSent]}
	for _, st := range sum.StatusOrder() {
		n := sum.Statuses[st]
		p.Outcomes = append(p.Outcomes, outcome{Status: string(st), Users: n, Invitations: sum.Invitations[st],
			Width: barWidth * float64(n) / float64(max(sum.Users, 1)), Color: statusColor(st)})
	}
	for i, c := range sum.TopErrorCodes() {
		if i == opts.TopCodes {
			p.MoreCodes = len(sum.ErrorCodes) - i
			break
		}
		user, msg, _ := s.Sample(c.Code)
		p.Codes = append(p.Codes, codeRow{Code: c.Code, Users: c.Users, SampleUser: user, SampleMessage: msg})
	}
	tl := s.Timeline(opts.Buckets)
	if len(tl) > 0 {
		p.Bucket = tl[0].Width.String()
		p.SendChart = newChart(tl, "sent rows per second", "no sent row", "#2e7d32",
			func(b Bucket) float64 { return b.SentPerSecond() }, f2)
		p.ThrottleChart = newChart(tl, "throttled or retried rows per "+p.Bucket, "no throttled or retried row", "#e65100",
			func(b Bucket) float64 { return float64(b.Throttled) }, func(v float64) string { return strconv.Itoa(int(v)) })
	}
	return pageTemplate.Execute(w, p)
}

// humanSpan is the span in hours, minutes and seconds beside its seconds, or "" under a
// minute, where it would only repeat them.
func humanSpan(d time.Duration) string {
	if d < time.Minute {
		return ""
	}
	return d.Round(time.Second).String()
}

type page struct {
	Opts                     PageOptions
	S                        Summary
	Span                     string
	Sent                     int
	Failed                   int
	Invitations              int // users whose final row is an invitation's (0: no --invitations)
	InvitationsSent          int
	Outcomes                 []outcome
	Codes                    []codeRow
	MoreCodes                int
	Bucket                   string
	SendChart, ThrottleChart *chart
}

type outcome struct {
	Status      string
	Users       int
	Invitations int // of Users, those whose final row is an invitation's
	Width       float64
	Color       string
}

type codeRow struct {
	Code, SampleUser, SampleMessage string
	Users                           int
}

const barWidth = 320.0

func statusColor(s job.Status) string {
	switch s {
	case job.StatusSent:
		return "#2e7d32"
	case job.StatusFailed:
		return "#c62828"
	case job.StatusLimitExceeded:
		return "#ef6c00"
	case job.StatusUnknown:
		return "#6a1b9a"
	case job.StatusAlreadyConfirmed:
		return "#1565c0"
	case job.StatusUserNotFound, job.StatusInvalidInput, job.StatusDisabled, job.StatusNotEligible:
		return "#8d6e63"
	}
	return "#757575"
}

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// chart is a bar chart of the timeline, laid out here so the page needs no script.
type chart struct {
	Label         string
	Color         string
	Width, Height float64
	Left, Bottom  float64 // the plot's left edge and baseline
	Max           string  // the y axis's top value ("" when every value is 0)
	Empty         string  // said in the plot when every value is 0
	Mid           float64 // the plot's horizontal middle
	Bars          []bar
	Ticks         []tick
}

type bar struct {
	X, Y, W, H float64
	Title      string
}

type tick struct {
	X     float64
	Label string
}

const (
	chartWidth  = 880.0
	chartHeight = 180.0
	chartLeft   = 56.0
	// chartRight leaves room for half of the widest time label ("Jan 2 15:04", centred
	// on its bucket's start) after the last bucket.
	chartRight  = 44.0
	chartTop    = 12.0
	chartBottom = 150.0 // baseline; time labels below
)

func newChart(tl []Bucket, label, empty, color string, value func(Bucket) float64, format func(float64) string) *chart {
	c := &chart{Label: label, Color: color, Width: chartWidth, Height: chartHeight, Left: chartLeft, Bottom: chartBottom,
		Mid: (chartLeft + chartWidth - chartRight) / 2}
	top := 0.0
	for _, b := range tl {
		top = math.Max(top, value(b))
	}
	if top > 0 {
		c.Max = format(top)
	} else {
		c.Empty = empty // not an axis from 0 to 0
	}
	step := (chartWidth - chartLeft - chartRight) / float64(len(tl))
	layout := "15:04:05"
	if tl[len(tl)-1].Start.Sub(tl[0].Start) >= 24*time.Hour {
		layout = "Jan 2 15:04"
	}
	// Ticks at round times: the smallest round width, a multiple of the buckets', that
	// gives at most 7 of them.
	width := tl[0].Width
	tickEvery := bucketWidths[len(bucketWidths)-1]
	for _, w := range bucketWidths {
		if w%width == 0 && time.Duration(len(tl))*width/w < 7 {
			tickEvery = w
			break
		}
	}
	for i, b := range tl {
		x := chartLeft + float64(i)*step
		h := 0.0
		if top > 0 {
			h = (chartBottom - chartTop) * value(b) / top
		}
		c.Bars = append(c.Bars, bar{X: x, Y: chartBottom - h, W: math.Max(step-1, 1), H: h,
			Title: fmt.Sprintf("%s UTC, %s: %s %s", b.Start.Format(layout), b.Width, format(value(b)), label)})
		if b.Start.Unix()%int64(tickEvery.Seconds()) == 0 {
			c.Ticks = append(c.Ticks, tick{X: x, Label: b.Start.Format(layout)})
		}
	}
	return c
}
