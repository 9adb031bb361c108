package deploy_test

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/source/lambdasource"
)

// lambdaFile is Lambda mode's template (docs/lambda.md).
const lambdaFile = "lambda/template.yaml"

func lambdaTemplate(t *testing.T) *yaml.Node {
	t.Helper()
	docs := yamlNodes(t, lambdaFile)
	require.Len(t, docs, 1)
	return docs[0]
}

// lambdaEnvs are the environment variables `cognito-resend lambda --help` lists.
func lambdaEnvs(t *testing.T) map[string]bool {
	t.Helper()
	require.NoError(t, helpErr, "building the binary")
	out, err := exec.Command(binaryPath, "lambda", "--help").CombinedOutput()
	require.NoError(t, err, string(out))
	envs := map[string]bool{config.EnvClientSecret: true} // the secret has no flag, by design
	for _, line := range strings.Split(string(out), "\n") {
		if e := envListRE.FindStringSubmatch(line); e != nil {
			for _, v := range strings.Split(e[1], ", ") {
				envs[strings.TrimPrefix(v, "$")] = true
			}
		}
	}
	require.True(t, envs["COGNITO_RESEND_MAX_RECEIVE_COUNT"], "lambda --help lists no COGNITO_RESEND_MAX_RECEIVE_COUNT:\n%s", out)
	return envs
}

// paramInt is the value of n: a number, or a !Ref parameter's Default (or its key).
func paramInt(t *testing.T, tmpl, n *yaml.Node, key, what string) int {
	t.Helper()
	require.NotNil(t, n, what)
	if n.Tag == "!Ref" {
		n = path(tmpl, "Parameters", n.Value, key)
		require.NotNil(t, n, "%s: the parameter has no %s", what, key)
	}
	v, err := strconv.Atoi(n.Value)
	require.NoError(t, err, what)
	return v
}

func TestLambdaTemplateReferencesResolve(t *testing.T) {
	checkReferences(t, lambdaFile)
}

// The function is what the release ships and the command reads: provided.al2023 on arm64
// running bootstrap, configured through the environment variables the binary lists, the
// ledger table and the queue's maxReceiveCount handed over by reference.
func TestLambdaTemplateFunction(t *testing.T) {
	tmpl := lambdaTemplate(t)
	res := path(tmpl, "Resources")
	fp := path(res, "Function", "Properties")
	require.NotNil(t, fp, "%s: no Function", lambdaFile)
	assert.Equal(t, "AWS::Lambda::Function", path(res, "Function", "Type").Value)
	assert.Equal(t, "provided.al2023", path(fp, "Runtime").Value)
	assert.Equal(t, []string{"arm64"}, scalars(path(fp, "Architectures")))
	assert.Equal(t, "bootstrap", path(fp, "Handler").Value)

	envs := lambdaEnvs(t)
	vars := path(fp, "Environment", "Variables")
	for _, k := range mapKeys(vars) {
		assert.True(t, envs[k], "%s: %s is not a variable `cognito-resend lambda --help` lists", lambdaFile, k)
	}
	for _, k := range []string{config.EnvClientID, "COGNITO_RESEND_LEDGER_TABLE", "COGNITO_RESEND_MAX_RECEIVE_COUNT"} {
		assert.NotNil(t, mapGet(vars, k), "%s: the function needs %s", lambdaFile, k)
	}
	assert.Equal(t, "LedgerTable", mapGet(vars, "COGNITO_RESEND_LEDGER_TABLE").Value, "the ledger table is the stack's")
	queue, _ := lambdaQueues(t, tmpl)
	mrc := path(res, queue, "Properties", "RedrivePolicy", "maxReceiveCount")
	require.NotNil(t, mrc)
	assert.Equal(t, "!Ref", mrc.Tag)
	assert.Equal(t, mrc.Value, mapGet(vars, "COGNITO_RESEND_MAX_RECEIVE_COUNT").Value,
		"COGNITO_RESEND_MAX_RECEIVE_COUNT must be the queue's maxReceiveCount (the poison rule)")
	// Every Timeout it allows leaves room for a call: TestLambdaTemplateVisibilityFollowsTimeout.
}

// lambdaQueues is the queue with a RedrivePolicy and its DLQ.
func lambdaQueues(t *testing.T, tmpl *yaml.Node) (queue, dlq string) {
	t.Helper()
	res := path(tmpl, "Resources")
	for _, id := range mapKeys(res) {
		if rp := path(res, id, "Properties", "RedrivePolicy"); rp != nil && path(res, id, "Type").Value == "AWS::SQS::Queue" {
			queue = id
			dlq = strings.TrimSuffix(path(rp, "deadLetterTargetArn").Value, ".Arn")
		}
	}
	require.NotEmpty(t, queue, "%s: no queue with a RedrivePolicy", lambdaFile)
	return queue, dlq
}

// The event source mapping reports batch item failures (else Lambda ignores the answer
// and a partial failure retries the whole batch), caps the environments, and the queue's
// visibility timeout is at least six times the function's timeout.
func TestLambdaTemplateEventSource(t *testing.T) {
	tmpl := lambdaTemplate(t)
	res := path(tmpl, "Resources")
	var esm string
	for _, id := range mapKeys(res) {
		if path(res, id, "Type").Value == "AWS::Lambda::EventSourceMapping" {
			esm = id
		}
	}
	require.NotEmpty(t, esm, "%s: no AWS::Lambda::EventSourceMapping", lambdaFile)
	ep := path(res, esm, "Properties")
	queue, dlq := lambdaQueues(t, tmpl)
	assert.Equal(t, []string{"ReportBatchItemFailures"}, scalars(path(ep, "FunctionResponseTypes")))
	assert.Equal(t, queue+".Arn", path(ep, "EventSourceArn").Value)
	assert.Equal(t, "Function", path(ep, "FunctionName").Value)
	mc := path(ep, "ScalingConfig", "MaximumConcurrency")
	assert.GreaterOrEqual(t, paramInt(t, tmpl, mc, "MinValue", "MaximumConcurrency MinValue"), 2)
	assert.LessOrEqual(t, paramInt(t, tmpl, mc, "MaxValue", "MaximumConcurrency MaxValue"), 1000)
	assert.NotNil(t, path(ep, "BatchSize"))
	assert.NotNil(t, path(ep, "MaximumBatchingWindowInSeconds"))

	for _, id := range []string{queue, dlq} {
		assert.Equal(t, "true", path(res, id, "Properties", "SqsManagedSseEnabled").Value, "%s: encryption at rest", id)
	}

	tp := path(res, "LedgerTable", "Properties")
	require.NotNil(t, tp, "%s: no LedgerTable", lambdaFile)
	assert.Equal(t, dynamoledger.AttrExpiresAt, path(tp, "TimeToLiveSpecification", "AttributeName").Value)
	assert.Equal(t, "Retain", path(res, "LedgerTable", "DeletionPolicy").Value)
}

// The execution role grants exactly: the event source's three SQS actions on the queue,
// the function's own SQS calls (lambdasource.VisibilityAPI: the limit_exceeded put-off),
// the ledger table's actions of deploy/iam/policy-ledger-table.json, the fleet's of
// policy-fleet-rate.json, the pool's of policy-verify-users.json, and writing its own
// log group; nothing on "*".
func TestLambdaTemplateRole(t *testing.T) {
	pols := cfnPoliciesOf(t, lambdaFile)
	ledger := loadJSONPolicy(t, filepath.Join(iamDir, "policy-ledger-table.json"))
	fleetRate := loadJSONPolicy(t, filepath.Join(iamDir, "policy-fleet-rate.json"))
	verify := loadJSONPolicy(t, filepath.Join(iamDir, "policy-verify-users.json"))
	want := map[string][]string{
		"FunctionRole/logs":           {"logs:CreateLogStream", "logs:PutLogEvents"},
		"FunctionRole/event-source":   {"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"},
		"FunctionRole/limit-exceeded": sqsActionsOf(reflect.TypeFor[lambdasource.VisibilityAPI]()),
		"FunctionRole/ledger-table":   ledger.actionSet(),
		"FleetPolicy":                 fleetRate.actionSet(),
		"BudgetPolicy":                loadJSONPolicy(t, filepath.Join(iamDir, "policy-daily-budget.json")).actionSet(),
		"UserPoolPolicy":              verify.actionSet(),
	}
	require.ElementsMatch(t, sortedKeys(want), sortedKeys(pols), "the template's identity policies")
	for id, p := range pols {
		assert.Equal(t, want[id], p.actionSet(), "%s", p.Name)
		for a, rs := range p.Actions {
			for _, r := range rs {
				assert.NotEqual(t, "*", r, "%s: %s on *", p.Name, a)
			}
		}
	}
}

// sqsActionsOf is the IAM actions of an interface's SQS calls: each method is an SQS
// operation, a Batch one authorized by its single action.
func sqsActionsOf(t reflect.Type) []string {
	var out []string
	for i := range t.NumMethod() {
		out = append(out, "sqs:"+strings.TrimSuffix(t.Method(i).Name, "Batch"))
	}
	slices.Sort(out)
	return out
}
