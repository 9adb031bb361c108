package lambdasource

import (
	"log/slog"
	"strings"
	"time"

	"github.com/cognito-resend/cognito-resend/worker/job"
)

// MetricsNamespace is the CloudWatch namespace of Lambda mode's metrics.
const MetricsNamespace = "cognito-resend"

// emitMetrics writes one batch's metrics as a CloudWatch Embedded Metric Format line
// (Lambda mode serves no /metrics): the messages, the batch item failures, whether the
// batch failed as a whole, and the rows by status (Sent, RecentlySent, Unknown, …), with
// the dimension FunctionName.
func emitMetrics(log *slog.Logger, function string, now time.Time, items []Item, failures int, whole bool) {
	counts := map[job.Status]int{}
	attempts := 0
	for _, it := range items {
		if it.HasRow {
			counts[it.Row.Status]++
			attempts += it.Row.Attempts
		}
	}
	values := []any{"FunctionName", function, "Messages", len(items), "BatchItemFailures", failures,
		"BatchErrors", b2i(whole), "Attempts", attempts}
	metrics := []map[string]string{{"Name": "Messages", "Unit": "Count"}, {"Name": "BatchItemFailures", "Unit": "Count"},
		{"Name": "BatchErrors", "Unit": "Count"}, {"Name": "Attempts", "Unit": "Count"}}
	for _, st := range job.Statuses {
		name := metricName(st)
		metrics = append(metrics, map[string]string{"Name": name, "Unit": "Count"})
		values = append(values, name, counts[st])
	}
	aws := map[string]any{"Timestamp": now.UnixMilli(), "CloudWatchMetrics": []any{map[string]any{
		"Namespace": MetricsNamespace, "Dimensions": [][]string{{"FunctionName"}}, "Metrics": metrics}}}
	log.Info("metrics", append([]any{"_aws", aws}, values...)...)
}

// metricName is a status as a metric name: recently_sent is RecentlySent.
func metricName(st job.Status) string {
	var b strings.Builder
	for part := range strings.SplitSeq(string(st), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
