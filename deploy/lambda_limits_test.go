package deploy_test

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/source/lambdasource"
)

// The queue's visibility timeout is not a free parameter: for every Timeout the template
// allows, it is at least 6 × that timeout (docs/lambda.md, AWS's advice), derived from
// the Timeout through the VisibilityByTimeout mapping.
func TestLambdaTemplateVisibilityFollowsTimeout(t *testing.T) {
	tmpl := lambdaTemplate(t)
	queue, _ := lambdaQueues(t, tmpl)
	vis := path(tmpl, "Resources", queue, "Properties", "VisibilityTimeout")
	require.NotNil(t, vis)
	require.Equal(t, "!FindInMap", vis.Tag, "the queue's VisibilityTimeout must be derived from Timeout (!FindInMap), not a parameter of its own")
	require.Len(t, vis.Content, 3)
	mapping := vis.Content[0].Value
	assert.Equal(t, "!Ref", vis.Content[1].Tag)
	assert.Equal(t, "Timeout", vis.Content[1].Value, "the mapping is keyed by the function's Timeout")
	assert.Equal(t, "Timeout", path(tmpl, "Resources", "Function", "Properties", "Timeout").Value)

	allowed := scalars(path(tmpl, "Parameters", "Timeout", "AllowedValues"))
	require.NotEmpty(t, allowed, "Timeout must be one of AllowedValues, each with its visibility timeout")
	for _, v := range allowed {
		timeout, err := strconv.Atoi(v)
		require.NoError(t, err)
		entry := path(tmpl, "Mappings", mapping, v, vis.Content[2].Value)
		require.NotNil(t, entry, "%s has no entry for Timeout %s", mapping, v)
		seconds, err := strconv.Atoi(entry.Value)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, seconds, 6*timeout, "Timeout %d: visibility timeout ≥ 6 × the function's timeout", timeout)
		assert.LessOrEqual(t, seconds, 43200, "SQS's largest visibility timeout")
		assert.Greater(t, time.Duration(timeout)*time.Second, config.Default().CallTimeout+lambdasource.SettleMarginDefault,
			"Timeout %d leaves no time for a call", timeout)
	}
	def := path(tmpl, "Parameters", "Timeout", "Default").Value
	assert.Contains(t, allowed, def)
}

// A batch must fit in the timeout at the rate (docs/lambda.md "Sizing"): the largest
// BatchSize at the default Rate fits the default Timeout less --call-timeout and the
// settle margin.
func TestLambdaTemplateBatchFitsTheTimeout(t *testing.T) {
	tmpl := lambdaTemplate(t)
	params := path(tmpl, "Parameters")
	maxBatch, err := strconv.Atoi(path(params, "BatchSize", "MaxValue").Value)
	require.NoError(t, err, "BatchSize needs a MaxValue")
	rate, err := strconv.ParseFloat(path(params, "Rate", "Default").Value, 64)
	require.NoError(t, err)
	timeout, err := strconv.Atoi(path(params, "Timeout", "Default").Value)
	require.NoError(t, err)
	room := time.Duration(timeout)*time.Second - config.Default().CallTimeout - lambdasource.SettleMarginDefault
	need := time.Duration(float64(maxBatch) / rate * float64(time.Second))
	assert.LessOrEqual(t, need, room, "BatchSize MaxValue %d at Rate %v takes %v; the default Timeout leaves %v", maxBatch, rate, need, room)
	assert.Contains(t, path(params, "BatchSize", "Description").Value, "BatchSize / Rate", "BatchSize's description says how to size it")
}

// FleetRate accepts exactly what the function's init accepts: 0 (off) or at least
// fleet.MinRate (0.1). A value the template passes but the init refuses fails every cold
// start.
func TestLambdaTemplateFleetRateMatchesTheInit(t *testing.T) {
	tmpl := lambdaTemplate(t)
	p := path(tmpl, "Parameters", "FleetRate")
	accepts := func(v string) bool {
		if ap := path(p, "AllowedPattern"); ap != nil {
			if !regexp.MustCompile(ap.Value).MatchString(v) {
				return false
			}
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		if mv := path(p, "MinValue"); mv != nil {
			m, _ := strconv.ParseFloat(mv.Value, 64)
			if f < m {
				return false
			}
		}
		return true
	}
	for _, v := range []string{"0", "0.05", "0.09", "0.1", "0.25", "1", "2.5", "50", "100"} {
		f, _ := strconv.ParseFloat(v, 64)
		c := config.Default()
		c.ClientID = "client"
		c.Lambda = true
		c.LedgerTable = "cognito-resend-ledger"
		c.FleetRate = f
		c.FleetName = "cognito-resend"
		initOK := c.Validate() == nil
		assert.Equal(t, initOK, accepts(v), "FleetRate %s: the init accepts it: %v, the template: %v", v, initOK, accepts(v))
	}
}

// Every variable the function is given that needs a permission has it, under the same
// condition: the daily budget's counter (budget#daily) and the fleet's heartbeats are
// outside the ledger statement's user#* partitions.
func TestLambdaTemplateEnvHasItsPermissions(t *testing.T) {
	tmpl := lambdaTemplate(t)
	res := path(tmpl, "Resources")
	vars := path(res, "Function", "Properties", "Environment", "Variables")
	needs := []struct{ env, policyFile, leadingKey string }{
		{"COGNITO_RESEND_DAILY_BUDGET", "policy-daily-budget.json", "budget#*"},
		{"COGNITO_RESEND_FLEET_NAME", "policy-fleet-rate.json", "fleet#*"},
		{"COGNITO_RESEND_USER_POOL_ID", "policy-verify-users.json", ""},
	}
	pols := cfnPoliciesOf(t, lambdaFile)
	for _, n := range needs {
		v := mapGet(vars, n.env)
		if !assert.NotNil(t, v, "%s: the function must be able to set %s (docs/lambda.md says it works)", lambdaFile, n.env) {
			continue
		}
		cond := "" // the condition under which the variable is set
		if v.Tag == "!If" {
			cond = v.Content[0].Value
		}
		want := loadJSONPolicy(t, filepath.Join(iamDir, n.policyFile)).actionSet()
		var found []string
		for id, p := range pols {
			if !assert.ObjectsAreEqual(want, p.actionSet()) {
				continue
			}
			found = append(found, id)
			if c := path(res, id, "Condition"); cond != "" && c != nil {
				assert.Equal(t, cond, c.Value, "%s: %s is set under %s, its policy under %s", n.env, id, cond, c.Value)
			}
			if n.leadingKey != "" {
				assert.Equal(t, []string{n.leadingKey}, leadingKeys(path(res, id, "Properties", "PolicyDocument")), "%s: %s's partitions", n.env, id)
			}
		}
		assert.Len(t, found, 1, "%s needs exactly one policy granting %v (%s)", n.env, want, n.policyFile)
	}
	for _, p := range []string{"DailyBudget", "BudgetReset"} {
		assert.NotNil(t, path(tmpl, "Parameters", p), "parameter %s", p)
	}
	assert.Equal(t, "0", path(tmpl, "Parameters", "DailyBudget", "Default").Value, "no budget unless asked")
}

func leadingKeys(doc *yaml.Node) []string {
	var out []string
	for _, s := range mapGetSeq(path(doc, "Statement")) {
		out = append(out, scalars(path(s, "Condition", "ForAllValues:StringLike", "dynamodb:LeadingKeys"))...)
	}
	return out
}
