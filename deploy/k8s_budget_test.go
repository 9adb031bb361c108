package deploy_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/budget"
)

// TestDailyBudgetCronJob: the kit's long campaign is a CronJob that continues one
// campaign a window at a time (docs/long-campaigns.md): --daily-budget and --resume
// --start-if-missing on a fixed report, never two runs at once, scheduled in UTC after
// the window --budget-reset opens and before the next.
func TestDailyBudgetCronJob(t *testing.T) {
	objs := loadObjects(t)
	found := 0
	for _, w := range workloads(t, objs) {
		if w.Obj.Kind != "CronJob" {
			continue
		}
		found++
		for _, c := range w.Spec.Containers {
			get := func(flag string) string {
				v, _, ok := setting(t, objs, w, c, flag)
				require.True(t, ok, "%s container %s: no --%s", w, c.Name, flag)
				return v
			}
			n, err := strconv.Atoi(get("daily-budget"))
			require.NoError(t, err)
			assert.Positive(t, n, "%s: --daily-budget", w)
			assert.LessOrEqual(t, n, 50, "%s: --daily-budget above Cognito's default email cap (50 a day)", w)
			assert.Equal(t, "true", get("resume"), "%s: each day's run continues the campaign", w)
			assert.Equal(t, "true", get("start-if-missing"), "%s: the first run starts it", w)
			assert.Equal(t, "true", get("yes"), "%s", w)
			report := get("report")
			assert.True(t, strings.HasPrefix(report, "/var/lib/cognito-resend/"), "%s: the report on the PVC: %s", w, report)

			sched, err := budget.ParseReset(get("budget-reset"))
			require.NoError(t, err, "%s: --budget-reset", w)
			minute, hour, ok := strings.Cut(path(w.Obj.Node, "spec", "schedule").Value, " ")
			require.True(t, ok)
			hour, _, _ = strings.Cut(hour, " ")
			m, errM := strconv.Atoi(minute)
			h, errH := strconv.Atoi(hour)
			require.NoError(t, errM, "%s: schedule minute", w)
			require.NoError(t, errH, "%s: schedule hour", w)
			at := int(sched.Reset.Minutes())
			runAt := h*60 + m
			assert.True(t, runAt >= at && runAt < at+60, "%s: runs at %02d:%02d UTC, not within the hour after --budget-reset %s", w, h, m, sched)
		}
		assert.Equal(t, "Etc/UTC", path(w.Obj.Node, "spec", "timeZone").Value, "%s: windows are in UTC", w)
		assert.Equal(t, "Forbid", path(w.Obj.Node, "spec", "concurrencyPolicy").Value, "%s: two runs of one campaign never overlap", w)
	}
	assert.Positive(t, found, "no CronJob under %s: the daily-budget campaign (docs/long-campaigns.md)", k8sDir)
}
