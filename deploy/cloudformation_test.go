package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
)

func cfnTemplate(t *testing.T) *yaml.Node {
	t.Helper()
	docs := yamlNodes(t, cfnFile)
	require.Len(t, docs, 1)
	return docs[0]
}

// cfnQueues returns the logical ids of the work queue (the one with a RedrivePolicy) and
// of its dead-letter queue.
func cfnQueues(t *testing.T) (queue, dlq string) {
	t.Helper()
	res := path(cfnTemplate(t), "Resources")
	for _, id := range mapKeys(res) {
		r := mapGet(res, id)
		if path(r, "Type").Value != "AWS::SQS::Queue" {
			continue
		}
		if rp := path(r, "Properties", "RedrivePolicy"); rp != nil {
			require.Empty(t, queue, "two queues with a RedrivePolicy")
			queue = id
			target := path(rp, "deadLetterTargetArn")
			require.NotNil(t, target, "%s: RedrivePolicy without deadLetterTargetArn", id)
			require.Equal(t, "!GetAtt", target.Tag, "%s: deadLetterTargetArn must be !GetAtt <DLQ>.Arn", id)
			dlq = strings.TrimSuffix(target.Value, ".Arn")
		}
	}
	require.NotEmpty(t, queue, "%s: no queue with a RedrivePolicy", cfnFile)
	require.Equal(t, "AWS::SQS::Queue", path(res, dlq, "Type").Value, "%s: the DLQ %s is not an SQS queue of the template", cfnFile, dlq)
	return queue, dlq
}

// cfnLedgerTable returns the logical id of the ledger table.
func cfnLedgerTable(t *testing.T) string {
	t.Helper()
	res := path(cfnTemplate(t), "Resources")
	var id string
	for _, k := range mapKeys(res) {
		if path(res, k, "Type").Value == "AWS::DynamoDB::Table" {
			require.Empty(t, id, "one DynamoDB table")
			id = k
		}
	}
	require.NotEmpty(t, id, "%s: no AWS::DynamoDB::Table (the shared ledger)", cfnFile)
	return id
}

var subRefRE = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// Every !Ref, !GetAtt, !Sub ${...}, !If and Condition names something the template
// defines (or an AWS:: pseudo parameter).
func TestCloudFormationReferencesResolve(t *testing.T) {
	checkReferences(t, cfnFile)
}

// checkReferences checks the references of the CloudFormation template file.
func checkReferences(t *testing.T, cfnFile string) {
	docs := yamlNodes(t, cfnFile)
	require.Len(t, docs, 1)
	tmpl := docs[0]
	checkNoDuplicateKeys(t, cfnFile, tmpl)
	params := map[string]bool{}
	for _, k := range mapKeys(path(tmpl, "Parameters")) {
		params[k] = true
	}
	resources := map[string]bool{}
	for _, k := range mapKeys(path(tmpl, "Resources")) {
		resources[k] = true
	}
	conditions := map[string]bool{}
	for _, k := range mapKeys(path(tmpl, "Conditions")) {
		conditions[k] = true
	}
	ref := func(name string, line int) {
		if strings.HasPrefix(name, "AWS::") || params[name] || resources[name] {
			return
		}
		t.Errorf("%s:%d: %q is neither a parameter, a resource nor a pseudo parameter", cfnFile, line, name)
	}
	var walk func(n *yaml.Node, parentKey string)
	walk = func(n *yaml.Node, parentKey string) {
		switch n.Tag {
		case "!Ref":
			ref(n.Value, n.Line)
		case "!GetAtt":
			id, _, _ := strings.Cut(n.Value, ".")
			if !resources[id] {
				t.Errorf("%s:%d: !GetAtt %s: no resource %s", cfnFile, n.Line, n.Value, id)
			}
		case "!Sub":
			s := n.Value
			if n.Kind == yaml.SequenceNode {
				s = n.Content[0].Value // variables given in the map are local
			}
			for _, m := range subRefRE.FindAllStringSubmatch(s, -1) {
				name, _, _ := strings.Cut(m[1], ".")
				if n.Kind == yaml.SequenceNode && mapGet(n.Content[1], name) != nil {
					continue
				}
				ref(name, n.Line)
			}
		case "!If":
			if len(n.Content) > 0 && !conditions[n.Content[0].Value] {
				t.Errorf("%s:%d: !If %s: no such condition", cfnFile, n.Line, n.Content[0].Value)
			}
		case "!Condition":
			if !conditions[n.Value] {
				t.Errorf("%s:%d: !Condition %s: no such condition", cfnFile, n.Line, n.Value)
			}
		}
		if parentKey == "Condition" && n.Kind == yaml.ScalarNode && n.Tag == "!!str" && !conditions[n.Value] {
			t.Errorf("%s:%d: Condition %s: no such condition", cfnFile, n.Line, n.Value)
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], n.Content[i].Value)
			}
			return
		}
		for _, c := range n.Content {
			walk(c, "")
		}
	}
	walk(path(tmpl, "Resources"), "")
	walk(path(tmpl, "Outputs"), "")
	walk(path(tmpl, "Conditions"), "")
}

// The queue, its DLQ and the role match what the worker expects and the manifests use.
func TestCloudFormationQueueAndRole(t *testing.T) {
	tmpl := cfnTemplate(t)
	def := config.Default()
	queue, dlq := cfnQueues(t)
	res := path(tmpl, "Resources")
	qp := path(res, queue, "Properties")
	dp := path(res, dlq, "Properties")

	intOf := func(n *yaml.Node, what string) int {
		require.NotNil(t, n, what)
		if n.Tag == "!Ref" {
			n = path(tmpl, "Parameters", n.Value, "Default")
			require.NotNil(t, n, "%s: the parameter has no Default", what)
		}
		v, err := strconv.Atoi(n.Value)
		require.NoError(t, err, what)
		return v
	}

	t.Run("queue", func(t *testing.T) {
		assert.Equal(t, int(def.VisibilityTimeout.Seconds()), intOf(path(qp, "VisibilityTimeout"), "VisibilityTimeout"), "queue VisibilityTimeout vs --visibility-timeout's default")
		assert.Equal(t, def.WaitTimeSeconds, intOf(path(qp, "ReceiveMessageWaitTimeSeconds"), "ReceiveMessageWaitTimeSeconds"), "long polling vs --wait-time-seconds' default")
		qRet := intOf(path(qp, "MessageRetentionPeriod"), "queue MessageRetentionPeriod")
		dRet := intOf(path(dp, "MessageRetentionPeriod"), "DLQ MessageRetentionPeriod")
		assert.Greater(t, dRet, qRet, "a message keeps its enqueue time in the DLQ: the DLQ must retain longer than the queue")
		assert.Greater(t, qRet, int(def.LimitExceededDelay.Seconds()), "messages must outlive a limit_exceeded park (--limit-exceeded-delay)")
		for id, p := range map[string]*yaml.Node{queue: qp, dlq: dp} {
			sse := path(p, "SqsManagedSseEnabled")
			assert.True(t, (sse != nil && sse.Value == "true") || path(p, "KmsMasterKeyId") != nil, "%s: encryption at rest (SqsManagedSseEnabled)", id)
		}
		// FIFO is all or nothing: a FIFO queue's dead-letter queue must be FIFO too.
		qf, df := path(qp, "FifoQueue"), path(dp, "FifoQueue")
		if qf != nil || df != nil {
			require.True(t, qf != nil && df != nil, "FifoQueue must be set on both the queue and its DLQ")
			var a, b strings.Builder
			require.NoError(t, yaml.NewEncoder(&a).Encode(qf))
			require.NoError(t, yaml.NewEncoder(&b).Encode(df))
			assert.Equal(t, a.String(), b.String(), "FifoQueue differs between the queue and its DLQ")
		}
		rp := path(qp, "RedrivePolicy", "maxReceiveCount")
		require.NotNil(t, rp)
		assert.Equal(t, "!Ref", rp.Tag, "maxReceiveCount is a parameter")
		assert.Equal(t, 5, intOf(rp, "maxReceiveCount"), "maxReceiveCount default")
	})

	t.Run("roles trust the workers' and the campaign Jobs' service accounts", func(t *testing.T) {
		var roles []string
		for _, id := range mapKeys(res) {
			if path(res, id, "Type").Value == "AWS::IAM::Role" {
				roles = append(roles, id)
			}
		}
		require.ElementsMatch(t, []string{"QueueWorkerRole", "CampaignRole"}, roles, "the queue workers' role and the campaign Jobs'")
		for role, saParam := range map[string]string{"QueueWorkerRole": "ServiceAccountName", "CampaignRole": "CampaignServiceAccountName"} {
			trust := path(res, role, "Properties", "AssumeRolePolicyDocument")
			require.NotNil(t, trust, role)
			require.Equal(t, "!Sub", trust.Tag, "%s: the trust policy is a !Sub JSON string (the OIDC provider is in its keys)", role)
			var doc struct {
				Statement []struct {
					Effect    string
					Principal struct{ Federated string }
					Action    string
					Condition map[string]map[string]string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(trust.Value), &doc), "%s: trust policy JSON", role)
			require.Len(t, doc.Statement, 1, role)
			s := doc.Statement[0]
			assert.Equal(t, "Allow", s.Effect, role)
			assert.Equal(t, "sts:AssumeRoleWithWebIdentity", s.Action, role)
			assert.Contains(t, s.Principal.Federated, ":oidc-provider/${OidcProvider}", role)
			assert.Equal(t, map[string]string{
				"${OidcProvider}:sub": "system:serviceaccount:${Namespace}:${" + saParam + "}",
				"${OidcProvider}:aud": "sts.amazonaws.com",
			}, s.Condition["StringEquals"], "%s: trust only its service account (StringEquals, not StringLike)", role)
		}

		// The parameters' defaults are the manifests' names.
		var k struct {
			Namespace string `yaml:"namespace"`
		}
		require.NoError(t, yaml.Unmarshal(readFile(t, filepath.Join(k8sDir, "kustomization.yaml")), &k))
		assert.Equal(t, k.Namespace, path(tmpl, "Parameters", "Namespace", "Default").Value, "Namespace default vs kustomization.yaml")
		objs := loadObjects(t)
		var sa, jobSA string
		for _, w := range workloads(t, objs) {
			switch w.Obj.Kind {
			case "Deployment":
				sa = w.Spec.ServiceAccountName
			case "Job":
				jobSA = w.Spec.ServiceAccountName
			}
		}
		assert.Equal(t, sa, path(tmpl, "Parameters", "ServiceAccountName", "Default").Value, "ServiceAccountName default vs the queue Deployment")
		assert.Equal(t, jobSA, path(tmpl, "Parameters", "CampaignServiceAccountName", "Default").Value, "CampaignServiceAccountName default vs the campaign Job")
		assert.NotNil(t, path(tmpl, "Outputs", "RoleArn"), "output RoleArn (for the service account annotation)")
		if out := path(tmpl, "Outputs", "CampaignRoleArn"); assert.NotNil(t, out, "output CampaignRoleArn (for the campaign service account's annotation)") {
			assert.Equal(t, "CampaignRole.Arn", path(out, "Value").Value)
			assert.Contains(t, path(out, "Description").Value, jobSA)
		}
		assert.NotNil(t, path(tmpl, "Outputs", "QueueUrl"), "output QueueUrl (for COGNITO_RESEND_SQS_QUEUE_URL)")
	})
}

// The ledger table is what `cognito-resend ledger init` makes and the code checks: the
// key schema, on-demand billing, TTL on expires_at; plus point-in-time recovery, and
// kept when the stack goes (it is the record of who was sent a code).
func TestCloudFormationLedgerTable(t *testing.T) {
	tmpl := cfnTemplate(t)
	id := cfnLedgerTable(t)
	r := path(tmpl, "Resources", id)
	p := path(r, "Properties")
	assert.Equal(t, "PAY_PER_REQUEST", path(p, "BillingMode").Value, "on-demand billing")
	keys := map[string]string{}
	for _, k := range mapGetSeq(path(p, "KeySchema")) {
		keys[path(k, "KeyType").Value] = path(k, "AttributeName").Value
	}
	assert.Equal(t, map[string]string{"HASH": dynamoledger.AttrPK, "RANGE": dynamoledger.AttrSK}, keys, "the key schema ledger init checks")
	attrs := map[string]string{}
	for _, a := range mapGetSeq(path(p, "AttributeDefinitions")) {
		attrs[path(a, "AttributeName").Value] = path(a, "AttributeType").Value
	}
	assert.Equal(t, map[string]string{dynamoledger.AttrPK: "S", dynamoledger.AttrSK: "S"}, attrs)
	assert.Equal(t, dynamoledger.AttrExpiresAt, path(p, "TimeToLiveSpecification", "AttributeName").Value, "TTL on the records' expiry")
	assert.Equal(t, "true", path(p, "TimeToLiveSpecification", "Enabled").Value)
	assert.Equal(t, "true", path(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled").Value, "point-in-time recovery")
	assert.Equal(t, "Retain", path(r, "DeletionPolicy").Value)
	assert.Equal(t, "Retain", path(r, "UpdateReplacePolicy").Value)

	// The name the manifests use is the stack's default.
	name := path(p, "TableName")
	require.Equal(t, "!Ref", name.Tag)
	def := path(tmpl, "Parameters", name.Value, "Default").Value
	objs := loadObjects(t)
	ws := workloads(t, objs)
	require.NotEmpty(t, ws)
	for _, w := range ws {
		for _, c := range w.Spec.Containers {
			v, from, ok := setting(t, objs, w, c, "ledger-table")
			if assert.True(t, ok, "%s container %s: the queue workers and campaign Jobs use the ledger table (--ledger-table)", w, c.Name) {
				assert.Equal(t, def, v, "%s container %s: %s vs the stack's table", w, c.Name, from)
			}
		}
	}
}

// deploy/README.md mentions every file of the kit.
func TestReadmeCoversTheKit(t *testing.T) {
	readme := string(readFile(t, "README.md"))
	for _, f := range filesUnder(t, ".", ".yaml", ".json", "Dockerfile", ".dockerignore") {
		assert.Contains(t, readme, filepath.Base(f), "deploy/README.md does not mention %s", f)
	}
	// Every metric the README names is registered by the code (namespace cognito_resend).
	// (every file of the package: the --invitations metrics live in invitations.go)
	var src string
	files, err := filepath.Glob(filepath.Join(workerPkg, "metrics", "*.go"))
	require.NoError(t, err)
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			src += string(readFile(t, f))
		}
	}
	registered := map[string]bool{}
	for _, m := range regexp.MustCompile(`Name:\s*"([a-z0-9_]+)"`).FindAllStringSubmatch(src, -1) {
		registered["cognito_resend_"+m[1]] = true
	}
	require.NotEmpty(t, registered, "no metric names found in worker/metrics")
	for _, m := range regexp.MustCompile(`cognito_resend_[a-z0-9_]+`).FindAllString(readme, -1) {
		_, todo := notServedYet[m] // the README says it is not served yet
		assert.True(t, registered[m] || todo, "deploy/README.md names metric %s, which worker/metrics does not register", m)
	}
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			assert.Contains(t, readme, e.Name()+"/", "deploy/README.md does not mention %s/", e.Name())
		}
	}
}
