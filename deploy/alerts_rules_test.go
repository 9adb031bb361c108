package deploy_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/template"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The alert rules' unit tests are in promtool's format (prometheus/alerts_test.yaml, run
// as is by `promtool test rules`) and evaluated here the way promtool does: the input
// series in PromQL's expanding notation, each rule's expression evaluated by Prometheus'
// own engine every evaluation_interval from time 0, the pending → firing → resolved
// states of rules/alerting.go (for, keep_firing_for), and the firing alerts' labels and
// annotations (expanded by Prometheus' template package) compared at each eval_time.
// Only promql, promql/parser, storage and template are built: promtool's rules and
// promqltest packages would bring Prometheus' whole configuration tree (service
// discovery for every cloud) into go.mod.

const alertTestsFile = "prometheus/alerts_test.yaml"

type alertTestFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	Tests              []struct {
		Name        string         `yaml:"name"`
		Interval    model.Duration `yaml:"interval"`
		InputSeries []struct {
			Series string `yaml:"series"`
			Values string `yaml:"values"`
		} `yaml:"input_series"`
		AlertRuleTests []alertRuleTest `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

type alertRuleTest struct {
	EvalTime  model.Duration `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []struct {
		ExpLabels      map[string]string `yaml:"exp_labels"`
		ExpAnnotations map[string]string `yaml:"exp_annotations"`
	} `yaml:"exp_alerts"`
}

func loadAlertTests(t *testing.T) alertTestFile {
	t.Helper()
	var f alertTestFile
	dec := yaml.NewDecoder(strings.NewReader(string(readFile(t, alertTestsFile))))
	dec.KnownFields(true) // promtool rejects unknown fields too
	require.NoError(t, dec.Decode(&f), alertTestsFile)
	require.Equal(t, []string{"alerts.yaml"}, f.RuleFiles, "%s: rule_files, relative to the test file", alertTestsFile)
	if f.EvaluationInterval == 0 {
		f.EvaluationInterval = model.Duration(time.Minute) // promtool's default
	}
	return f
}

// memSeries is the input series: a storage.Queryable over samples in memory.
type memSeries []storage.Series

type memSample struct {
	t int64
	f float64
}

func (s memSample) T() int64                      { return s.t }
func (s memSample) ST() int64                     { return 0 }
func (s memSample) F() float64                    { return s.f }
func (s memSample) H() *histogram.Histogram       { return nil }
func (s memSample) FH() *histogram.FloatHistogram { return nil }
func (s memSample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s memSample) Copy() chunks.Sample           { return s }

func (m memSeries) Querier(int64, int64) (storage.Querier, error) { return m, nil }
func (memSeries) Close() error                                    { return nil }
func (memSeries) LabelValues(context.Context, string, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return nil, nil, nil
}

func (memSeries) LabelNames(context.Context, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return nil, nil, nil
}

func (m memSeries) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	var out []storage.Series
	for _, s := range m {
		if slices.IndexFunc(ms, func(mt *labels.Matcher) bool { return !mt.Matches(s.Labels().Get(mt.Name)) }) < 0 {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i].Labels(), out[j].Labels()) < 0 })
	return &memSet{series: out, i: -1}
}

type memSet struct {
	series []storage.Series
	i      int
}

func (s *memSet) Next() bool                      { s.i++; return s.i < len(s.series) }
func (s *memSet) At() storage.Series              { return s.series[s.i] }
func (*memSet) Err() error                        { return nil }
func (*memSet) Warnings() annotations.Annotations { return nil }

// loadSeries expands promtool's input_series ("0+1x10", "_", "stale") from time 0 every interval.
func loadSeries(t *testing.T, where string, interval time.Duration, in []struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}) memSeries {
	t.Helper()
	var out memSeries
	for _, is := range in {
		lset, vals, err := promParser.ParseSeriesDesc(is.Series + " " + is.Values)
		require.NoError(t, err, "%s: series %s %q", where, is.Series, is.Values)
		var samples []chunks.Sample
		for i, v := range vals {
			if !v.Omitted {
				samples = append(samples, memSample{t: int64(i) * interval.Milliseconds(), f: v.Value})
			}
		}
		out = append(out, storage.NewListSeries(lset, samples))
	}
	return out
}

// alertState is one alert of a rule (rules.Alert, reduced to what the tests see).
type alertState struct {
	labels, annotations labels.Labels
	activeAt, keepSince time.Time
	firing              bool
}

// alertRule evaluates one rule like rules.AlertingRule.Eval.
type alertRule struct {
	name, expr         string
	holdFor, keepFor   time.Duration
	labels, annotation map[string]string
	active             map[uint64]*alertState
}

func (r *alertRule) eval(t *testing.T, ng *promql.Engine, db memSeries, ts time.Time) {
	t.Helper()
	query := func(ctx context.Context, q string, at time.Time) (promql.Vector, error) {
		qry, err := ng.NewInstantQuery(ctx, db, nil, q, at)
		if err != nil {
			return nil, err
		}
		defer qry.Close()
		res := qry.Exec(ctx)
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Vector()
	}
	vec, err := query(t.Context(), r.expr, ts)
	require.NoError(t, err, "alert %s at %s", r.name, ts.UTC().Format(time.TimeOnly))
	seen := map[uint64]bool{}
	for _, smpl := range vec {
		data := template.AlertTemplateData(smpl.Metric.Map(), nil, "", smpl)
		expand := func(text string) string {
			tmpl := template.NewTemplateExpander(t.Context(), promTemplateHeader+text, "__alert_"+r.name, data,
				model.TimeFromUnixNano(ts.UnixNano()), template.QueryFunc(query), &url.URL{}, nil)
			out, err := tmpl.Expand()
			require.NoError(t, err, "alert %s: template %q", r.name, text)
			return out
		}
		lb := labels.NewBuilder(smpl.Metric)
		lb.Del(model.MetricNameLabel)
		for k, v := range r.labels {
			lb.Set(k, expand(v))
		}
		lb.Set(labels.AlertName, r.name)
		ann := labels.NewBuilder(labels.EmptyLabels())
		for k, v := range r.annotation {
			ann.Set(k, expand(v))
		}
		lset := lb.Labels()
		h := lset.Hash()
		require.False(t, seen[h], "alert %s: two samples with the labels %s", r.name, lset)
		seen[h] = true
		if a := r.active[h]; a != nil {
			a.annotations, a.keepSince = ann.Labels(), time.Time{}
			continue
		}
		r.active[h] = &alertState{labels: lset, annotations: ann.Labels(), activeAt: ts}
	}
	for h, a := range r.active {
		if !seen[h] {
			if a.firing && r.keepFor > 0 {
				if a.keepSince.IsZero() {
					a.keepSince = ts
				}
				if ts.Sub(a.keepSince) < r.keepFor {
					continue
				}
			}
			delete(r.active, h) // resolved: a new match starts pending again
			continue
		}
		if ts.Sub(a.activeAt) >= r.holdFor {
			a.firing = true
		}
	}
}

func (r *alertRule) firing() []string {
	var out []string
	for _, a := range r.active {
		if a.firing {
			out = append(out, a.labels.String()+" "+a.annotations.String())
		}
	}
	sort.Strings(out)
	return out
}

// firingYAML writes the firing alerts as exp_alerts, for a maintainer to check and paste.
func (r *alertRule) firingYAML() string {
	type exp struct {
		Labels      map[string]string `yaml:"exp_labels"`
		Annotations map[string]string `yaml:"exp_annotations"`
	}
	var out []exp
	for _, a := range r.active {
		if a.firing {
			l := a.labels.Map()
			delete(l, labels.AlertName)
			out = append(out, exp{l, a.annotations.Map()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i].Labels) < fmt.Sprint(out[j].Labels) })
	b, _ := yaml.Marshal(map[string]any{"exp_alerts": out})
	return string(b)
}

func loadAlertRules(t *testing.T) map[string]*alertRule {
	t.Helper()
	out := map[string]*alertRule{}
	dur := func(s string) time.Duration {
		if s == "" {
			return 0
		}
		d, err := model.ParseDuration(s)
		require.NoError(t, err)
		return time.Duration(d)
	}
	for _, g := range loadRules(t).Groups {
		require.Empty(t, g.Interval, "group %s: an own interval; the tests evaluate every group at evaluation_interval", g.Name)
		for _, r := range g.Rules {
			require.Empty(t, r.Record, "recording rule %s: the tests do not evaluate recording rules yet", r.Record)
			out[r.Alert] = &alertRule{name: r.Alert, expr: r.Expr, holdFor: dur(r.For), keepFor: dur(r.KeepFiringFor),
				labels: r.Labels, annotation: r.Annotations, active: map[uint64]*alertState{}}
		}
	}
	return out
}

// Every alert has a test in which it fires and one in which it stays quiet; the tests
// pass.
func TestAlertRuleUnitTests(t *testing.T) {
	f := loadAlertTests(t)
	interval := time.Duration(f.EvaluationInterval)
	fires, quiet := map[string][]string{}, map[string][]string{}
	for _, tg := range f.Tests {
		require.NotEmpty(t, tg.Name, "%s: every test group has a name", alertTestsFile)
		t.Run(tg.Name, func(t *testing.T) {
			step := time.Duration(tg.Interval)
			if step == 0 {
				step = interval // promtool's default
			}
			db := loadSeries(t, tg.Name, step, tg.InputSeries)
			rules := loadAlertRules(t)
			ng := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: time.Minute,
				NoStepSubqueryIntervalFn: func(int64) int64 { return interval.Milliseconds() }})
			defer ng.Close()

			byTime := map[time.Duration][]alertRuleTest{}
			var last time.Duration
			for _, at := range tg.AlertRuleTests {
				require.Contains(t, rules, at.Alertname, "alertname: no such alert in %s", alertsFile)
				byTime[time.Duration(at.EvalTime)] = append(byTime[time.Duration(at.EvalTime)], at)
				last = max(last, time.Duration(at.EvalTime))
				if len(at.ExpAlerts) > 0 {
					fires[at.Alertname] = append(fires[at.Alertname], tg.Name)
				} else {
					quiet[at.Alertname] = append(quiet[at.Alertname], tg.Name)
				}
			}
			names := sortedKeys(rules)
			start := time.Unix(0, 0).UTC()
			for ts := time.Duration(0); ts <= last; ts += interval {
				for _, n := range names {
					rules[n].eval(t, ng, db, start.Add(ts))
				}
				// promtool checks an eval_time against the evaluation at or just before it.
				for at, cases := range byTime {
					if at < ts || at >= ts+interval {
						continue
					}
					for _, c := range cases {
						var want []string
						for _, e := range c.ExpAlerts {
							l := labels.FromMap(e.ExpLabels)
							l = labels.NewBuilder(l).Set(labels.AlertName, c.Alertname).Labels()
							want = append(want, l.String()+" "+labels.FromMap(e.ExpAnnotations).String())
						}
						sort.Strings(want)
						if !assert.Equal(t, want, rules[c.Alertname].firing(), "alert %s at %s", c.Alertname, model.Duration(at)) {
							t.Logf("%s at %s fires:\n%s", c.Alertname, model.Duration(at), rules[c.Alertname].firingYAML())
						}
					}
				}
			}
		})
	}
	for _, n := range sortedKeys(loadAlertRules(t)) {
		assert.NotEmpty(t, fires[n], "%s: no test makes alert %s fire", alertTestsFile, n)
		assert.NotEmpty(t, quiet[n], "%s: no test keeps alert %s quiet", alertTestsFile, n)
	}
}

// The oldest-message rule's retention is the stack's: a changed MessageRetentionPeriod
// default without the rule would page too late (or never).
func TestOldestMessageAlertUsesTheQueuesRetention(t *testing.T) {
	docs := yamlNodes(t, cfnFile)
	require.Len(t, docs, 1)
	retention := path(docs[0], "Parameters", "MessageRetentionPeriod", "Default")
	require.NotNil(t, retention, "%s: Parameters.MessageRetentionPeriod.Default", cfnFile)
	var found bool
	for _, q := range ruleQueries(t) {
		if q.Where != "alert CognitoResendOldestMessageNearRetention" {
			continue
		}
		found = true
		var nums []string
		parser.Inspect(q.Expr, func(n parser.Node, _ []parser.Node) error {
			if nl, ok := n.(*parser.NumberLiteral); ok {
				nums = append(nums, fmt.Sprint(nl.Val))
			}
			return nil
		})
		assert.Contains(t, nums, retention.Value, "%s: the threshold is a fraction of the queue's retention (%s s)", q.Where, retention.Value)
	}
	require.True(t, found, "no alert CognitoResendOldestMessageNearRetention")
}
