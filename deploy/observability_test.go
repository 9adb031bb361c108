package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	dto "github.com/prometheus/client_model/go"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
)

// The dashboard and the alert rules are checked against the binary: every PromQL
// expression is parsed by Prometheus' own parser (promql/parser; the rules' unit tests,
// alerts_rules_test.go, add its engine, never its configuration tree), and every
// cognito_resend_* metric it
// selects, with the labels it matches or groups by, must be in the /metrics of a running
// queue worker (TestObservabilityQueriesServedMetrics).

const (
	dashboardFile = "grafana/cognito-resend.json"
	alertsFile    = "prometheus/alerts.yaml"
	metricPrefix  = "cognito_resend_"
)

// notServedYet lists metrics the dashboard and the alerts need that the binary does not
// serve yet. Each entry is checked to be used and not served: once the binary serves it,
// the test fails until the entry is deleted.
var notServedYet = map[string]string{}

// externalMetrics are the metrics the rules and the dashboard read that are not
// cognito_resend_*, with the reason each is allowed; deploy/README.md documents each
// (the test checks it names them).
var externalMetrics = map[string]string{
	// YACE (prometheus-community/yet-another-cloudwatch-exporter): AWS/SQS
	// ApproximateNumberOfMessagesVisible, statistic Average, dimensions as dimension_<Name>.
	"aws_sqs_approximate_number_of_messages_visible_average": "YACE: the queues' length (NoProgress, DLQNotEmpty)",
	// The same exporter, ApproximateAgeOfOldestMessage, statistic Maximum: the binary
	// can't know how old the oldest message it has not received is.
	"aws_sqs_approximate_age_of_oldest_message_maximum": "YACE: the oldest message's age against the retention",
	// client_golang's process collector, served by the binary (and every Go exporter):
	// a restart in place changes it. The rule selects cognito-resend's targets with an
	// `and on (job, instance)` a cognito_resend_* series.
	"process_start_time_seconds": "the binary's process collector: restarts",
}

// targetLabels are added by Prometheus to every scraped series.
var targetLabels = []string{"job", "instance"}

// promQuery is one PromQL expression of the dashboard or the rules.
type promQuery struct {
	Where string // e.g. `panel "Throttles" target B`
	Expr  parser.Expr
	// Annotations are an alert's labels and annotations (Go templates).
	Annotations map[string]string
}

var promParser = parser.NewParser(parser.Options{})

// ---------------------------------------------------------------------------------------
// The dashboard.

type grafanaPanel struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	GridPos     struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Datasource *grafanaDS `json:"datasource"`
	Targets    []struct {
		RefID      string     `json:"refId"`
		Expr       string     `json:"expr"`
		Datasource *grafanaDS `json:"datasource"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"` // a collapsed row's
}

type grafanaDS struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaDashboard struct {
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *grafanaDS      `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

func loadDashboard(t *testing.T) grafanaDashboard {
	t.Helper()
	var d grafanaDashboard
	require.NoError(t, json.Unmarshal(readFile(t, dashboardFile), &d))
	return d
}

func allPanels(ps []grafanaPanel) []grafanaPanel {
	var out []grafanaPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

var (
	grafanaVarRE  = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)
	grafanaRanges = []string{"__rate_interval", "__interval", "__range"}
	labelValuesRE = regexp.MustCompile(`^label_values\((?:(.*),\s*)?(\w+)\)$`)
)

// expandGrafana replaces Grafana's variables so Prometheus can parse the expression:
// the interval variables by a duration, the dashboard's own by a plain word (they are
// only used inside label matchers' strings). An unknown variable is an error.
func expandGrafana(expr string, vars []string) (string, error) {
	var bad []string
	out := grafanaVarRE.ReplaceAllStringFunc(expr, func(m string) string {
		sm := grafanaVarRE.FindStringSubmatch(m)
		name := sm[1] + sm[2]
		switch {
		case slices.Contains(grafanaRanges, name):
			return "5m"
		case slices.Contains(vars, name):
			return "v"
		}
		bad = append(bad, m)
		return m
	})
	if bad != nil {
		return "", fmt.Errorf("unknown Grafana variable(s) %v", bad)
	}
	return out, nil
}

func dashboardQueries(t *testing.T) []promQuery {
	t.Helper()
	d := loadDashboard(t)
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	parse := func(where, s string) promQuery {
		x, err := expandGrafana(s, vars)
		require.NoError(t, err, "%s: %s", where, s)
		e, err := promParser.ParseExpr(x)
		require.NoError(t, err, "%s: %s", where, s)
		return promQuery{Where: where, Expr: e}
	}
	var out []promQuery
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q string
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var obj struct{ Query string }
			require.NoError(t, json.Unmarshal(v.Query, &obj), "variable %s: query", v.Name)
			q = obj.Query
		}
		m := labelValuesRE.FindStringSubmatch(strings.TrimSpace(q))
		require.NotNil(t, m, "variable %s: only label_values([selector,] label) is modelled: %s", v.Name, q)
		require.NotEmpty(t, m[1], "variable %s: label_values without a metric searches every series", v.Name)
		// The label must exist on the selected metric: group by it to let the label check see it.
		out = append(out, parse("variable "+v.Name, fmt.Sprintf("count by (%s) (%s)", m[2], m[1])))
	}
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			out = append(out, parse(fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), tg.Expr))
		}
	}
	return out
}

// The dashboard is a current Grafana model, bound to a Prometheus data source chosen by
// a variable (no data source uid of someone's Grafana), laid out without overlaps, and
// shows what issue 13 asks for.
func TestDashboardModel(t *testing.T) {
	d := loadDashboard(t)
	assert.GreaterOrEqual(t, d.SchemaVersion, 39, "schemaVersion")
	assert.NotEmpty(t, d.UID)
	assert.NotEmpty(t, d.Title)

	var dsVar string
	for _, v := range d.Templating.List {
		if v.Type == "datasource" {
			var q string
			require.NoError(t, json.Unmarshal(v.Query, &q))
			assert.Equal(t, "prometheus", q, "data source variable %s must list Prometheus data sources", v.Name)
			dsVar = v.Name
		}
	}
	require.NotEmpty(t, dsVar, "no data source variable (type datasource)")
	okDS := func(where string, ds *grafanaDS) {
		if assert.NotNil(t, ds, "%s: no datasource", where) {
			assert.Equal(t, "prometheus", ds.Type, where)
			assert.Contains(t, []string{"$" + dsVar, "${" + dsVar + "}"}, ds.UID, "%s: datasource uid must be the variable, not a fixed uid", where)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			okDS("variable "+v.Name, v.Datasource)
		}
	}
	// Anywhere in the file: a datasource uid is the variable or Grafana's built-in one.
	var doc any
	require.NoError(t, json.Unmarshal(readFile(t, dashboardFile), &doc))
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ds, ok := v["datasource"].(map[string]any); ok {
				uid, _ := ds["uid"].(string)
				ok := uid == "$"+dsVar || uid == "${"+dsVar+"}" || (ds["type"] == "grafana" && uid == "-- Grafana --")
				assert.True(t, ok, "%s.datasource: uid %q is hard-coded", path, uid)
			}
			if s, ok := v["datasource"].(string); ok {
				t.Errorf("%s.datasource: %q (a data source name, hard-coded)", path, s)
			}
			for k, c := range v {
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	walk("$", doc)

	ids := map[int]string{}
	type cell struct{ x, y int }
	taken := map[cell]string{}
	uses := map[string]bool{}
	for _, p := range allPanels(d.Panels) {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panel id %d used by %q and %q", p.ID, prev, p.Title)
		}
		ids[p.ID] = p.Title
		assert.NotEmpty(t, p.Title, "panel %d has no title", p.ID)
		g := p.GridPos
		assert.True(t, g.W > 0 && g.H > 0 && g.X >= 0 && g.X+g.W <= 24, "panel %q: gridPos %+v outside the 24 columns", p.Title, g)
	cells:
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if prev, ok := taken[cell{x, y}]; ok {
					t.Errorf("panel %q overlaps %q at (%d,%d)", p.Title, prev, x, y)
					break cells
				}
				taken[cell{x, y}] = p.Title
			}
		}
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		okDS(fmt.Sprintf("panel %q", p.Title), p.Datasource)
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			okDS(fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), tg.Datasource)
			assert.False(t, refs[tg.RefID], "panel %q: refId %s twice", p.Title, tg.RefID)
			refs[tg.RefID] = true
			for _, name := range regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`).FindAllString(tg.Expr, -1) {
				uses[name] = true
			}
		}
	}
	// What issue 13 asks the dashboard to show.
	for _, m := range []string{
		"cognito_resend_jobs_total",                           // fleet send rate by status
		"cognito_resend_cognito_throttles_total",              // throttles (and their ratio:)
		"cognito_resend_cognito_calls_total",                  //
		"cognito_resend_limiter_rate",                         // limiter rate per replica
		"cognito_resend_cognito_call_duration_seconds_bucket", // latency p50/p99
		"histogram_quantile",                                  //
		"cognito_resend_sqs_messages_in_flight",               // SQS in flight
		"cognito_resend_sqs_dlq_moves_total",                  // DLQ moves
		"cognito_resend_breaker_open",                         // the breaker's state
		"cognito_resend_sqs_errors_total",                     // receive/delete errors
		"cognito_resend_ledger_requests_total",                // the ledger table's calls
		"cognito_resend_ledger_errors_total",                  // and its errors
	} {
		assert.True(t, uses[m], "no panel queries %s", m)
	}
}

// ---------------------------------------------------------------------------------------
// The alert rules.

type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Alert         string            `yaml:"alert"`
			Record        string            `yaml:"record"`
			Expr          string            `yaml:"expr"`
			For           string            `yaml:"for"`
			KeepFiringFor string            `yaml:"keep_firing_for"`
			Labels        map[string]string `yaml:"labels"`
			Annotations   map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	var f ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, alertsFile)))
	dec.KnownFields(true) // Prometheus rejects unknown fields too
	require.NoError(t, dec.Decode(&f), alertsFile)
	return f
}

func ruleQueries(t *testing.T) []promQuery {
	t.Helper()
	var out []promQuery
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			e, err := promParser.ParseExpr(r.Expr)
			require.NoError(t, err, "%s: rule %s%s: %s", alertsFile, r.Alert, r.Record, r.Expr)
			notes := map[string]string{}
			for k, v := range r.Labels {
				notes["label "+k] = v
			}
			for k, v := range r.Annotations {
				notes["annotation "+k] = v
			}
			out = append(out, promQuery{Where: "alert " + r.Alert + r.Record, Expr: e, Annotations: notes})
		}
	}
	return out
}

// promTemplateHeader is what Prometheus puts before an alert's label and annotation
// templates (rules/alerting.go).
const promTemplateHeader = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// Prometheus' template functions (prometheus/template), for parsing only.
var promTemplateFuncs = template.FuncMap{}

func init() {
	for _, f := range []string{"humanize", "humanize1024", "humanizeDuration", "humanizePercentage",
		"humanizeTimestamp", "toTime", "query", "first", "label", "value", "strvalue", "args",
		"reReplaceAll", "safeHtml", "match", "title", "toUpper", "toLower", "graphLink",
		"tableLink", "sortByLabel", "stripPort", "stripDomain", "parseDuration", "externalURL",
		"pathPrefix"} {
		promTemplateFuncs[f] = func(...any) any { return nil }
	}
}

// The rule file is in Prometheus' groups/rules format with valid durations, severities
// and templates, and has the alerts issue 13 asks for; annotations only use labels the
// expression keeps.
func TestAlertRules(t *testing.T) {
	f := loadRules(t)
	require.NotEmpty(t, f.Groups)
	groups, alerts := map[string]bool{}, map[string][]string{}
	for _, g := range f.Groups {
		assert.NotEmpty(t, g.Name)
		assert.False(t, groups[g.Name], "group %s twice", g.Name)
		groups[g.Name] = true
		if g.Interval != "" {
			_, err := model.ParseDuration(g.Interval)
			assert.NoError(t, err, "group %s interval", g.Name)
		}
		require.NotEmpty(t, g.Rules, "group %s has no rules", g.Name)
		for _, r := range g.Rules {
			require.True(t, (r.Alert == "") != (r.Record == ""), "a rule is an alert or a record: %+v", r)
			if r.Record != "" {
				continue
			}
			_, dup := alerts[r.Alert]
			assert.False(t, dup, "alert %s twice", r.Alert)
			for _, d := range []string{r.For, r.KeepFiringFor} {
				if d != "" {
					_, err := model.ParseDuration(d)
					assert.NoError(t, err, "alert %s: duration %q", r.Alert, d)
				}
			}
			assert.Contains(t, []string{"critical", "warning", "info"}, r.Labels["severity"], "alert %s: severity label", r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], "alert %s: summary", r.Alert)
			assert.NotEmpty(t, r.Annotations["description"], "alert %s: description", r.Alert)
			for k, v := range r.Annotations {
				_, err := template.New(k).Funcs(promTemplateFuncs).Parse(promTemplateHeader + v)
				assert.NoError(t, err, "alert %s annotation %s", r.Alert, k)
			}
			e, err := promParser.ParseExpr(r.Expr)
			require.NoError(t, err, "alert %s", r.Alert)
			parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok {
					alerts[r.Alert] = append(alerts[r.Alert], vs.Name)
				}
				return nil
			})
		}
	}
	// Issue 13's and issue 20's alerts, by what each must read.
	for alert, metrics := range map[string][]string{
		"CognitoResendThrottleRatioHigh": {"cognito_resend_cognito_throttles_total", "cognito_resend_cognito_calls_total"},
		"CognitoResendDLQMoves":          {"cognito_resend_sqs_dlq_moves_total"},
		"CognitoResendBreakerOpen":       {"cognito_resend_breaker_open"},
		"CognitoResendNoProgress":        {"aws_sqs_approximate_number_of_messages_visible_average", "cognito_resend_jobs_total"},
		// Issue 20's.
		"CognitoResendBreakerTrips":               {"cognito_resend_breaker_trips_total"},
		"CognitoResendRestarting":                 {"process_start_time_seconds"},
		"CognitoResendUnknownUsers":               {"cognito_resend_jobs_total"},
		"CognitoResendResourceGone":               {"cognito_resend_sqs_errors_total", "cognito_resend_ledger_errors_total"},
		"CognitoResendWorkerNotReady":             {"cognito_resend_ready"},
		"CognitoResendCognitoUnreachable":         {"cognito_resend_cognito_outage_seconds"},
		"CognitoResendOldestMessageNearRetention": {"aws_sqs_approximate_age_of_oldest_message_maximum"},
		"CognitoResendLedgerErrors":               {"cognito_resend_ledger_errors_total", "cognito_resend_ledger_requests_total"},
	} {
		if assert.Contains(t, alerts, alert) {
			assert.Subset(t, alerts[alert], metrics, "alert %s", alert)
		}
	}
}

var templateLabelRE = regexp.MustCompile(`\$labels\.(\w+)`)

// Annotations and labels only name labels the alert's expression keeps: a
// {{ $labels.instance }} after sum() without by (instance) renders empty.
func TestAlertTemplatesUseKeptLabels(t *testing.T) {
	for _, q := range ruleQueries(t) {
		kept, all := outputLabels(q.Expr)
		for where, text := range q.Annotations {
			for _, m := range templateLabelRE.FindAllStringSubmatch(text, -1) {
				assert.True(t, all || slices.Contains(kept, m[1]), "%s %s: $labels.%s, but the expression keeps only %v", q.Where, where, m[1], kept)
			}
		}
	}
}

// outputLabels tells which labels an expression's result keeps (all: every label of the
// selected series).
func outputLabels(e parser.Expr) (kept []string, all bool) {
	switch e := e.(type) {
	case *parser.VectorSelector, *parser.MatrixSelector:
		return nil, true
	case *parser.ParenExpr:
		return outputLabels(e.Expr)
	case *parser.UnaryExpr:
		return outputLabels(e.Expr)
	case *parser.SubqueryExpr:
		return outputLabels(e.Expr)
	case *parser.StepInvariantExpr:
		return outputLabels(e.Expr)
	case *parser.AggregateExpr:
		if e.Without {
			return nil, true // approximately
		}
		return e.Grouping, false
	case *parser.Call:
		if e.Func.Name == "vector" || e.Func.Name == "scalar" || e.Func.Name == "time" {
			return nil, false
		}
		for _, a := range e.Args {
			if a.Type() == parser.ValueTypeVector || a.Type() == parser.ValueTypeMatrix {
				kept, all = outputLabels(a)
				if e.Func.Name == "histogram_quantile" {
					kept = slices.DeleteFunc(slices.Clone(kept), func(l string) bool { return l == "le" })
				}
				return kept, all
			}
		}
		return nil, false
	case *parser.BinaryExpr:
		if e.LHS.Type() == parser.ValueTypeScalar {
			return outputLabels(e.RHS)
		}
		if e.Op == parser.LOR {
			lk, la := outputLabels(e.LHS)
			rk, ra := outputLabels(e.RHS)
			return append(slices.Clone(lk), rk...), la || ra
		}
		kept, all = outputLabels(e.LHS)
		if vm := e.VectorMatching; vm != nil && !e.Op.IsSetOperator() && vm.Card == parser.CardOneToOne && vm.On {
			return vm.MatchingLabels, false
		}
		if vm := e.VectorMatching; vm != nil {
			kept = append(slices.Clone(kept), vm.Include...)
		}
		return kept, all
	}
	return nil, false
}

// ---------------------------------------------------------------------------------------
// Drift: what the queries select vs what the binary serves.

// servedFamily is one metric family of a scrape.
type servedFamily struct {
	Type   dto.MetricType
	Labels map[string]map[string]bool // label → values seen
}

// selected is one metric name a query selects, with its matchers and the labels the
// aggregations around it group by.
type selected struct {
	Query    promQuery
	Selector *parser.VectorSelector
	Groups   []string // by (...) labels of enclosing aggregations
	RateLike string   // rate/irate/increase around it, if any
}

func selections(qs []promQuery) []selected {
	var out []selected
	for _, q := range qs {
		parser.Inspect(q.Expr, func(n parser.Node, path []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			s := selected{Query: q, Selector: vs}
			for i := len(path) - 1; i >= 0; i-- {
				switch p := path[i].(type) {
				case *parser.AggregateExpr:
					if !p.Without {
						s.Groups = append(s.Groups, p.Grouping...)
					}
				case *parser.Call:
					if s.RateLike == "" && slices.Contains([]string{"rate", "irate", "increase", "resets"}, p.Func.Name) {
						s.RateLike = p.Func.Name
					}
				}
			}
			out = append(out, s)
			return nil
		})
	}
	return out
}

func observabilityQueries(t *testing.T) []promQuery {
	return append(dashboardQueries(t), ruleQueries(t)...)
}

// Every query selects a metric by name; the names that are not the binary's are the
// documented external ones or the not-served-yet list, whose entries are all in use.
func TestObservabilityQueriesSelectKnownMetrics(t *testing.T) {
	qs := observabilityQueries(t)
	require.NotEmpty(t, qs)
	used := map[string]bool{}
	readme := string(readFile(t, "README.md"))
	for _, s := range selections(qs) {
		name := s.Selector.Name
		require.NotEmpty(t, name, "%s: selects series without a metric name: %s", s.Query.Where, s.Selector)
		used[name] = true
		if strings.HasPrefix(name, metricPrefix) {
			continue
		}
		_, ok := externalMetrics[name]
		assert.True(t, ok, "%s: metric %s is neither the binary's (%s*) nor a documented external one", s.Query.Where, name, metricPrefix)
	}
	for m := range externalMetrics {
		assert.True(t, used[m], "externalMetrics lists %s, which no query uses", m)
		assert.True(t, strings.Contains(readme, m), "deploy/README.md must document the external metric %s", m)
	}
	for m := range notServedYet {
		assert.True(t, used[m], "notServedYet lists %s, which no query uses: delete the entry", m)
		assert.True(t, strings.Contains(readme, m), "deploy/README.md must say that %s is not served yet", m)
	}
}

// The drift test proper: run the binary as a queue worker against fauxqs and the quota
// simulator, in a --fleet-rate fleet on a ledger table (dynalite), make it produce every
// kind of series (sends, a throttle, a poison message moved to the DLQ, the fleet's
// gauges, receive errors once the queue is gone), scrape /metrics and check
// each selected cognito_resend_* name, label and label value against the scrape.
func TestObservabilityQueriesServedMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary against fauxqs; run without -short")
	}
	require.NoError(t, helpErr, "building the binary")
	served := scrapeQueueWorker(t)

	type seriesInfo struct {
		family string
		typ    dto.MetricType
		labels map[string]map[string]bool
	}
	series := map[string]seriesInfo{} // selectable name → family
	for name, f := range served {
		switch f.Type {
		case dto.MetricType_HISTOGRAM:
			bucket := map[string]map[string]bool{"le": {}}
			for k, v := range f.Labels {
				bucket[k] = v
			}
			series[name+"_bucket"] = seriesInfo{name, f.Type, bucket}
			series[name+"_sum"] = seriesInfo{name, f.Type, f.Labels}
			series[name+"_count"] = seriesInfo{name, f.Type, f.Labels}
		case dto.MetricType_SUMMARY:
			series[name] = seriesInfo{name, f.Type, f.Labels}
			series[name+"_sum"] = seriesInfo{name, f.Type, f.Labels}
			series[name+"_count"] = seriesInfo{name, f.Type, f.Labels}
		default:
			series[name] = seriesInfo{name, f.Type, f.Labels}
		}
	}
	for m, why := range notServedYet {
		t.Run("not served yet/"+m, func(t *testing.T) {
			_, ok := series[m]
			require.False(t, ok, "the binary serves %s now: delete its notServedYet entry (TODO issue 13)", m)
			t.Skipf("TODO(issue 13): %s is not served by the binary yet (%s); its panel and alert stay empty until then", m, why)
		})
	}

	var ours []string
	for _, n := range sortedKeys(series) {
		if strings.HasPrefix(n, metricPrefix) {
			ours = append(ours, n)
		}
	}
	checked := 0
	for _, s := range selections(observabilityQueries(t)) {
		name := s.Selector.Name
		if !strings.HasPrefix(name, metricPrefix) {
			continue
		}
		if _, todo := notServedYet[name]; todo {
			continue
		}
		info, ok := series[name]
		if !assert.True(t, ok, "%s: %s is not served by the binary (/metrics has %v)", s.Query.Where, name, ours) {
			continue
		}
		checked++
		known := func(l string) bool { _, ok := info.labels[l]; return ok || slices.Contains(targetLabels, l) }
		for _, m := range s.Selector.LabelMatchers {
			if m.Name == model.MetricNameLabel {
				continue
			}
			assert.True(t, known(m.Name), "%s: %s has no label %q (it has %v)", s.Query.Where, name, m.Name, sortedKeys(info.labels))
			values, scraped := info.labels[m.Name]
			if !scraped {
				continue
			}
			// Positive matchers name values: each must be one the binary produced in this run.
			var want []string
			switch m.Type {
			case labels.MatchEqual:
				want = []string{m.Value}
			case labels.MatchRegexp:
				if regexp.MustCompile(`^[\w|]+$`).MatchString(m.Value) {
					want = strings.Split(m.Value, "|")
				}
			}
			for _, v := range want {
				assert.True(t, values[v], "%s: %s{%s=%q}: the binary never produced that value (seen: %v)", s.Query.Where, name, m.Name, v, sortedKeys(values))
			}
			// Any other regexp of an alert (no Grafana variable in it) must match a value
			// the binary produced: e.g. the AWS error codes of a deleted queue.
			if m.Type == labels.MatchRegexp && want == nil && strings.HasPrefix(s.Query.Where, "alert ") {
				assert.True(t, slices.ContainsFunc(sortedKeys(values), m.Matches),
					"%s: %s{%s=~%q}: matches no value the binary produced (seen: %v)", s.Query.Where, name, m.Name, m.Value, sortedKeys(values))
			}
		}
		for _, g := range s.Groups {
			assert.True(t, known(g), "%s: groups %s by %q, a label it does not have (%v)", s.Query.Where, name, g, sortedKeys(info.labels))
		}
		switch {
		case s.RateLike != "":
			assert.True(t, info.typ == dto.MetricType_COUNTER || name != info.family,
				"%s: %s(%s): a %s is not a counter", s.Query.Where, s.RateLike, name, info.typ)
		case info.typ == dto.MetricType_COUNTER && !strings.HasPrefix(s.Query.Where, "variable "):
			assert.Failf(t, "a raw counter", "%s: %s is a counter: use rate() or increase()", s.Query.Where, name)
		}
	}
	require.Greater(t, checked, 10, "too few selections checked: the extractor is broken")
}

// scrapeQueueWorker runs `cognito-resend run --sqs-queue-url` and returns its /metrics
// once every series the dashboard uses has been produced.
func scrapeQueueWorker(t *testing.T) map[string]servedFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	fq := emu.SQS(t)
	c := emu.NewSQSClient(fq.Endpoint)
	queue, _, err := emu.CreateQueueWithDLQ(ctx, c, "drift", false, 5)
	require.NoError(t, err)
	users := []string{"drift-1", "drift-2", "drift-3", "drift-throttled"}
	for _, body := range append(slices.Clone(users), `["not", "a", "user"]`) { // the last one is poison
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(body)})
		require.NoError(t, err)
	}
	// Cognito answered at once; one throttle.
	sim := quotasim.StartT(t, quotasim.Config{Inject: map[string]quotasim.InjectedError{
		"drift-throttled": {Type: "TooManyRequestsException", Message: "Rate exceeded", Times: 1}}})
	// The ledger table, for --fleet-rate's gauges (the fleet panels and alerts).
	db := emu.Dynamo(t, emu.WithTableDelay(0))
	dyn := emu.NewDynamoClient(db.Endpoint)
	_, err = dynamoledger.Init(ctx, dyn, "drift-ledger", dynamoledger.InitOptions{Clock: clock.Real()})
	require.NoError(t, err)

	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, binaryPath, "run", "--sqs-queue-url", queue, "--report", "drift.jsonl",
		"--metrics-addr", "127.0.0.1:0", "--log-format", "json", "--wait-time-seconds", "1", "--rate", "50",
		"--ledger-table", "drift-ledger", "--fleet-rate", "50", "--fleet-name", "drift")
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_REGION=" + emu.Region,
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=" + emu.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + emu.SecretAccessKey,
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + sim.URL, "AWS_ENDPOINT_URL_SQS=" + fq.Endpoint,
		emu.EnvDynamoEndpoint + "=" + db.Endpoint,
		"COGNITO_CLIENT_ID=drift-client", "COGNITO_RESEND_YES=true",
	}
	logPath := filepath.Join(dir, "worker.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	defer logFile.Close()
	cmd.Stderr = logFile
	log := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("worker log:\n%s", log())
		}
	}()

	addrRE := regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`)
	var addr string
	require.Eventually(t, func() bool {
		m := addrRE.FindStringSubmatch(log())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	}, 30*time.Second, 20*time.Millisecond, "no metrics address in the log:\n%s", log())

	scrape := func() (map[string]*dto.MetricFamily, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "text/plain; version=0.0.4") // the classic text format
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		return p.TextToMetricFamilies(bytes.NewReader(body))
	}
	value := func(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
		f := fams[name]
		if f == nil {
			return -1
		}
		sum := 0.0
	metrics:
		for _, m := range f.Metric {
			for i := 0; i+1 < len(labels); i += 2 {
				if !slices.ContainsFunc(m.Label, func(l *dto.LabelPair) bool { return l.GetName() == labels[i] && l.GetValue() == labels[i+1] }) {
					continue metrics
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
		return sum
	}
	var fams map[string]*dto.MetricFamily
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		require.Eventually(t, func() bool {
			fams, err = scrape()
			return err == nil && ok()
		}, time.Minute, 50*time.Millisecond, "%s (last scrape error: %v)\n%s", what, err, log())
	}
	waitFor("every user sent, one throttle, the poison message in the DLQ, the whole fleet rate", func() bool {
		return value(fams, "cognito_resend_jobs_total", "status", "sent") == float64(len(users)) &&
			value(fams, "cognito_resend_fleet_share", "fleet", "drift") == 50 &&
			value(fams, "cognito_resend_cognito_throttles_total") == 1 &&
			value(fams, "cognito_resend_sqs_dlq_moves_total") == 1 &&
			value(fams, "cognito_resend_sqs_messages_settled_total", "action", "delete") >= float64(len(users))
	})
	// Receive errors: the queue goes away under the worker.
	_, err = c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(queue)})
	require.NoError(t, err)
	waitFor("receive errors after the queue was deleted", func() bool {
		return value(fams, "cognito_resend_sqs_errors_total", "op", "ReceiveMessage") > 0
	})
	// Ledger errors: the table goes away too; the fleet heartbeat (every second) fails.
	_, err = dyn.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("drift-ledger")})
	require.NoError(t, err)
	waitFor("ledger errors after the table was deleted", func() bool {
		return value(fams, "cognito_resend_ledger_errors_total") > 0
	})

	out := map[string]servedFamily{}
	for name, f := range fams {
		sf := servedFamily{Type: f.GetType(), Labels: map[string]map[string]bool{}}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if sf.Labels[l.GetName()] == nil {
					sf.Labels[l.GetName()] = map[string]bool{}
				}
				sf.Labels[l.GetName()][l.GetValue()] = true
			}
		}
		out[name] = sf
	}
	return out
}
