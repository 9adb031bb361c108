package deploy_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-resend/cognito-resend/worker/fleet"
)

// workerPkg is the tree where the AWS calls are declared as interfaces, each by the
// package that makes them: SQS* for queue mode (worker/source/sqssource, the consumer;
// worker/source/enqueue, the producer), UserPoolAPI for the pool source
// and --verify-users (ListUsersAPI in worker/userpool: the listing, the census, the
// lookups), AdminGetUserAPI (--verify-with admin-get-user) and DescribeUserPoolAPI
// (the username case rule) in worker/userpool, DynamoDB* for the ledger table
// (worker/dynamoledger: DynamoDBAPI a campaign's calls, DynamoDBReadAPI ledger show's,
// DynamoDBAdminAPI ledger init's; worker/fleet: DynamoDBFleetAPI, --fleet-rate's
// heartbeats), InviteAPI (--invitations: AdminCreateUser) in worker/cognito.
// cognito.API (ResendConfirmationCode) is left out on
// purpose: that call is unauthenticated and no policy may grant it.
const workerPkg = "../worker"

var interfacePrefixes = []string{"SQS", "ListUsersAPI", "AdminGetUserAPI", "DescribeUserPoolAPI", "DynamoDB", "InviteAPI"}

// iamActionFor maps an SDK method to the IAM action that authorizes it. Batch calls are
// authorized as their single-message action.
var iamActionFor = map[string]string{
	"ReceiveMessage":               "sqs:ReceiveMessage",
	"DeleteMessage":                "sqs:DeleteMessage",
	"DeleteMessageBatch":           "sqs:DeleteMessage",
	"ChangeMessageVisibility":      "sqs:ChangeMessageVisibility",
	"ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
	"GetQueueAttributes":           "sqs:GetQueueAttributes",
	"GetQueueUrl":                  "sqs:GetQueueUrl",
	"SendMessage":                  "sqs:SendMessage",
	"SendMessageBatch":             "sqs:SendMessage",
	"ListUsers":                    "cognito-idp:ListUsers",
	"AdminGetUser":                 "cognito-idp:AdminGetUser",
	"AdminCreateUser":              "cognito-idp:AdminCreateUser",
	"DescribeUserPool":             "cognito-idp:DescribeUserPool",
	"GetItem":                      "dynamodb:GetItem",
	"PutItem":                      "dynamodb:PutItem",
	"UpdateItem":                   "dynamodb:UpdateItem",
	"Query":                        "dynamodb:Query",
	"Scan":                         "dynamodb:Scan",
	"DeleteItem":                   "dynamodb:DeleteItem",
	"DescribeTable":                "dynamodb:DescribeTable",
	"CreateTable":                  "dynamodb:CreateTable",
	"DescribeTimeToLive":           "dynamodb:DescribeTimeToLive",
	"UpdateTimeToLive":             "dynamodb:UpdateTimeToLive",
}

// codeActions parses the worker packages and returns, per interface, the IAM actions of its
// methods (embedded interfaces of the package and SDK XxxAPIClient interfaces included).
func codeActions(t *testing.T) (byIface map[string][]string, all map[string]bool) {
	t.Helper()
	fset := token.NewFileSet()
	var files []string
	err := filepath.WalkDir(workerPkg, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return err
	})
	require.NoError(t, err)
	ifaces := map[string]*ast.InterfaceType{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				if it, ok := ts.Type.(*ast.InterfaceType); ok {
					ifaces[ts.Name.Name] = it
				}
			}
		}
	}
	var methods func(name string, seen map[string]bool) []string
	methods = func(name string, seen map[string]bool) []string {
		if seen[name] {
			return nil
		}
		seen[name] = true
		var out []string
		for _, f := range ifaces[name].Methods.List {
			if len(f.Names) > 0 {
				for _, n := range f.Names {
					out = append(out, n.Name)
				}
				continue
			}
			switch e := f.Type.(type) {
			case *ast.Ident:
				if _, ok := ifaces[e.Name]; ok {
					out = append(out, methods(e.Name, seen)...)
				} else {
					t.Errorf("interface %s embeds %s, which this test cannot resolve", name, e.Name)
				}
			case *ast.SelectorExpr:
				// The SDK's per-operation interfaces, e.g. cognitoidentityprovider.ListUsersAPIClient.
				op, ok := strings.CutSuffix(e.Sel.Name, "APIClient")
				if !ok {
					t.Errorf("interface %s embeds %s.%s, which this test cannot resolve", name, e.X, e.Sel.Name)
				}
				out = append(out, op)
			default:
				t.Errorf("interface %s: embedded element %T not understood", name, e)
			}
		}
		return out
	}

	byIface = map[string][]string{}
	all = map[string]bool{}
	for name := range ifaces {
		if !slices.ContainsFunc(interfacePrefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		ms := methods(name, map[string]bool{})
		assert.NotEmpty(t, ms, "interface %s declares no method", name)
		for _, m := range ms {
			a, ok := iamActionFor[m]
			if !assert.True(t, ok, "interface %s, method %s: no IAM action known for this method; add it to iamActionFor and to the policies", name, m) {
				continue
			}
			byIface[name] = append(byIface[name], a)
			all[a] = true
		}
	}
	return byIface, all
}

// policy is an IAM policy document reduced to action → resources.
type policy struct {
	Name    string
	Actions map[string][]string // action → resources (JSON ARNs, or "!GetAtt X.Arn" in CloudFormation)
}

func (p policy) actionSet() []string { return sortedKeys(p.Actions) }

type jsonStatement struct {
	Effect      string `json:"Effect"`
	Action      any    `json:"Action"`
	Resource    any    `json:"Resource"`
	NotAction   any    `json:"NotAction"`
	NotResource any    `json:"NotResource"`
	Principal   any    `json:"Principal"`
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

func loadJSONPolicy(t *testing.T, file string) policy {
	t.Helper()
	var doc struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, file), &doc), file)
	assert.Equal(t, "2012-10-17", doc.Version, file)
	var sts []jsonStatement
	if err := json.Unmarshal(doc.Statement, &sts); err != nil {
		var one jsonStatement
		require.NoError(t, json.Unmarshal(doc.Statement, &one), file)
		sts = []jsonStatement{one}
	}
	p := policy{Name: file, Actions: map[string][]string{}}
	for i, s := range sts {
		require.Equal(t, "Allow", s.Effect, "%s statement %d", file, i)
		require.Nil(t, s.NotAction, "%s statement %d: NotAction grants everything else", file, i)
		require.Nil(t, s.NotResource, "%s statement %d: NotResource", file, i)
		require.Nil(t, s.Principal, "%s statement %d: an identity policy has no Principal", file, i)
		res := stringsOf(s.Resource)
		require.NotEmpty(t, res, "%s statement %d: no Resource", file, i)
		for _, a := range stringsOf(s.Action) {
			p.Actions[a] = append(p.Actions[a], res...)
		}
	}
	return p
}

// cfnPolicies returns the identity policies of the template: inline policies of
// AWS::IAM::Role and AWS::IAM::Policy / ManagedPolicy documents, by logical id.
func cfnPolicies(t *testing.T) map[string]policy {
	t.Helper()
	return cfnPoliciesOf(t, cfnFile)
}

// cfnPoliciesOf is cfnPolicies of the template file.
func cfnPoliciesOf(t *testing.T, cfnFile string) map[string]policy {
	t.Helper()
	docs := yamlNodes(t, cfnFile)
	require.Len(t, docs, 1)
	res := path(docs[0], "Resources")
	out := map[string]policy{}
	add := func(id string, doc *yaml.Node) {
		p := policy{Name: cfnFile + " " + id, Actions: map[string][]string{}}
		assert.Equal(t, "2012-10-17", path(doc, "Version").Value, p.Name)
		for i, s := range mapGetSeq(path(doc, "Statement")) {
			require.Equal(t, "Allow", path(s, "Effect").Value, "%s statement %d", p.Name, i)
			require.Nil(t, path(s, "NotAction"), "%s statement %d", p.Name, i)
			var resources []string
			r := path(s, "Resource")
			require.NotNil(t, r, "%s statement %d: no Resource", p.Name, i)
			for _, n := range seqOrOne(r) {
				resources = append(resources, strings.TrimSpace(n.Tag+" "+n.Value))
			}
			for _, a := range scalars(path(s, "Action")) {
				p.Actions[a] = append(p.Actions[a], resources...)
			}
		}
		out[id] = p
	}
	for _, id := range mapKeys(res) {
		r := mapGet(res, id)
		switch path(r, "Type").Value {
		case "AWS::IAM::Role":
			for _, pol := range mapGetSeq(path(r, "Properties", "Policies")) {
				add(id+"/"+path(pol, "PolicyName").Value, path(pol, "PolicyDocument"))
			}
			require.Nil(t, path(r, "Properties", "ManagedPolicyArns"), "%s: managed policies on the role would grant more than the code calls", id)
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			add(id, path(r, "Properties", "PolicyDocument"))
		}
	}
	return out
}

func mapGetSeq(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return []*yaml.Node{n}
}

func seqOrOne(n *yaml.Node) []*yaml.Node { return mapGetSeq(n) }

// The policies grant exactly the AWS calls the worker packages declare: nothing missing
// (a call would fail with AccessDenied), nothing extra (least privilege).
func TestIAMActionsAreExactlyTheCodesCalls(t *testing.T) {
	byIface, code := codeActions(t)
	var sqsIfaces, poolIfaces []string
	for name := range byIface {
		switch {
		case strings.HasPrefix(name, "SQS"):
			sqsIfaces = append(sqsIfaces, name)
		case name == "ListUsersAPI":
			poolIfaces = append(poolIfaces, name)
		}
	}
	require.Equal(t, []string{"cognito-idp:AdminGetUser"}, byIface["AdminGetUserAPI"],
		"the worker packages declare no AdminGetUserAPI (--verify-users): deploy/iam/policy-verify-users.json can't be checked against the code")
	require.Equal(t, []string{"cognito-idp:DescribeUserPool"}, byIface["DescribeUserPoolAPI"],
		"the worker packages declare no DescribeUserPoolAPI (the username case rule)")
	sort.Strings(sqsIfaces)
	require.NotEmpty(t, sqsIfaces, "the worker packages declare no interface whose name starts with SQS (e.g. `type SQSAPI interface { ReceiveMessage(...) ... }`): queue mode's SQS calls can't be checked against deploy/iam/policy-queue-worker.json and the CloudFormation role. The deploy kit assumes ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch, GetQueueAttributes, SendMessage (DLQ) and SendMessageBatch (producer).")
	require.NotEmpty(t, poolIfaces, "the worker packages declare no ListUsersAPI interface (ListUsers for --user-pool-id and --verify-users): deploy/iam/policy-pool-source.json can't be checked against the code")
	for _, name := range []string{"DynamoDBAPI", "DynamoDBReadAPI", "DynamoDBAdminAPI"} {
		require.Contains(t, byIface, name, "the ledger table's calls (worker/dynamoledger/api.go) are declared as DynamoDBAPI (a campaign), DynamoDBReadAPI (ledger show) and DynamoDBAdminAPI (ledger init); the policies are checked against them")
	}
	t.Logf("code: %v → %v", byIface, sortedKeys(code))

	worker := loadJSONPolicy(t, filepath.Join(iamDir, "policy-queue-worker.json"))
	producer := loadJSONPolicy(t, filepath.Join(iamDir, "policy-producer.json"))
	pool := loadJSONPolicy(t, filepath.Join(iamDir, "policy-pool-source.json"))
	verify := loadJSONPolicy(t, filepath.Join(iamDir, "policy-verify-users.json"))
	keda := loadJSONPolicy(t, filepath.Join(iamDir, "policy-keda-scaler.json"))
	ledgerTable := loadJSONPolicy(t, filepath.Join(iamDir, "policy-ledger-table.json"))
	ledgerAdmin := loadJSONPolicy(t, filepath.Join(iamDir, "policy-ledger-admin.json"))
	fleetRate := loadJSONPolicy(t, filepath.Join(iamDir, "policy-fleet-rate.json"))
	cfn := cfnPolicies(t)

	invite := loadJSONPolicy(t, filepath.Join(iamDir, "policy-invitations.json"))
	var cfnWorker, cfnVerify, cfnFleet, cfnCampaign, cfnCampaignPool, cfnBudget, cfnInvite *policy
	var cfnKeda []policy
	for id, p := range cfn {
		switch {
		case strings.Contains(strings.ToLower(id), "keda"):
			cfnKeda = append(cfnKeda, p)
		case strings.HasPrefix(id, "QueueWorkerRole/"):
			require.Nil(t, cfnWorker, "one inline policy on QueueWorkerRole")
			cfnWorker = &p
		case strings.HasPrefix(id, "CampaignRole/"):
			require.Nil(t, cfnCampaign, "one inline policy on CampaignRole")
			cfnCampaign = &p
		case id == "CampaignUserPoolPolicy":
			cfnCampaignPool = &p
		case id == "QueueWorkerUserPoolPolicy":
			cfnVerify = &p
		case id == "QueueWorkerFleetPolicy":
			cfnFleet = &p
		case id == "DailyBudgetPolicy":
			cfnBudget = &p
		case id == "InvitationsPolicy":
			cfnInvite = &p
		default:
			t.Errorf("%s: an identity policy this test does not know; say whose it is", p.Name)
		}
	}
	require.NotNil(t, cfnWorker, "%s: QueueWorkerRole has no inline policy", cfnFile)
	require.NotNil(t, cfnVerify, "%s: no QueueWorkerUserPoolPolicy (--verify-users in queue mode)", cfnFile)
	require.NotNil(t, cfnFleet, "%s: no QueueWorkerFleetPolicy (--fleet-rate in queue mode)", cfnFile)
	require.NotNil(t, cfnBudget, "%s: no DailyBudgetPolicy (--daily-budget with --ledger-table)", cfnFile)
	dailyBudget := loadJSONPolicy(t, filepath.Join(iamDir, "policy-daily-budget.json"))
	assert.Equal(t, dailyBudget.actionSet(), cfnBudget.actionSet(), "CloudFormation's DailyBudgetPolicy and iam/policy-daily-budget.json must grant the same actions")
	assert.Subset(t, byIface["DynamoDBAPI"], dailyBudget.actionSet(), "policy-daily-budget.json: calls a campaign makes (DynamoDBAPI)")
	require.NotNil(t, cfnCampaign, "%s: CampaignRole (the campaign Jobs' service account) has no inline policy", cfnFile)
	require.NotNil(t, cfnCampaignPool, "%s: no CampaignUserPoolPolicy (a pool campaign, --verify-users)", cfnFile)
	require.NotNil(t, cfnInvite, "%s: no InvitationsPolicy (--invitations)", cfnFile)

	union := map[string]bool{}
	for _, p := range []policy{worker, producer, pool, verify, ledgerTable, ledgerAdmin, fleetRate, invite, *cfnWorker, *cfnVerify, *cfnFleet, *cfnCampaign, *cfnCampaignPool, *cfnInvite} {
		for a := range p.Actions {
			union[a] = true
		}
	}
	assert.Equal(t, sortedKeys(code), sortedKeys(union),
		"IAM actions (policy-queue-worker, policy-producer, policy-pool-source, policy-verify-users, policy-ledger-table, policy-ledger-admin, policy-fleet-rate, CloudFormation role) vs the calls the worker packages declare (%v)", byIface)

	// Each policy on its own.
	set := func(actions ...[]string) []string {
		m := map[string]bool{}
		for _, as := range actions {
			for _, a := range as {
				m[a] = true
			}
		}
		return sortedKeys(m)
	}
	campaignTable := set(byIface["DynamoDBAPI"])
	assert.Equal(t, worker.actionSet(), cfnWorker.actionSet(), "CloudFormation's inline policy and iam/policy-queue-worker.json must grant the same actions")
	assert.Equal(t, []string{"sqs:SendMessage"}, producer.actionSet(), "producer")
	// The pool source lists (ListUsers) and reads the case rule (DescribeUserPool); a
	// --verify-users campaign reads each user's state (ListUsers: its census and lookups;
	// AdminGetUser with --verify-with admin-get-user) and reads the case rule.
	assert.Equal(t, append(byIface["DescribeUserPoolAPI"], byIface["ListUsersAPI"]...), pool.actionSet(), "pool source")
	assert.Equal(t, set(byIface["AdminGetUserAPI"], byIface["DescribeUserPoolAPI"], byIface["ListUsersAPI"]), verify.actionSet(), "verify users")
	assert.Equal(t, verify.actionSet(), cfnVerify.actionSet(), "CloudFormation's QueueWorkerUserPoolPolicy and iam/policy-verify-users.json must grant the same actions")
	assert.Equal(t, campaignTable, ledgerTable.actionSet(), "policy-ledger-table.json: what a campaign calls on the table (DynamoDBAPI)")
	assert.Equal(t, set(byIface["DynamoDBAdminAPI"], byIface["DynamoDBReadAPI"]), ledgerAdmin.actionSet(),
		"policy-ledger-admin.json: ledger init (DynamoDBAdminAPI) and ledger show (DynamoDBReadAPI)")
	require.Contains(t, byIface, "DynamoDBFleetAPI", "--fleet-rate's heartbeat calls are declared as fleet.DynamoDBFleetAPI (worker/fleet/api.go)")
	assert.Equal(t, set(byIface["DynamoDBFleetAPI"]), fleetRate.actionSet(), "policy-fleet-rate.json: what --fleet-rate calls on the table (DynamoDBFleetAPI)")
	assert.Equal(t, fleetRate.actionSet(), cfnFleet.actionSet(), "CloudFormation's QueueWorkerFleetPolicy and iam/policy-fleet-rate.json must grant the same actions")
	assert.Equal(t, ledgerTable.actionSet(), cfnCampaign.actionSet(), "CloudFormation's CampaignRole and iam/policy-ledger-table.json must grant the same actions")
	assert.Equal(t, []string{"cognito-idp:AdminCreateUser"}, byIface["InviteAPI"], "--invitations: cognito.InviteAPI")
	assert.Equal(t, byIface["InviteAPI"], invite.actionSet(), "policy-invitations.json: --invitations (InviteAPI)")
	assert.Equal(t, invite.actionSet(), cfnInvite.actionSet(), "CloudFormation's InvitationsPolicy and iam/policy-invitations.json must grant the same actions")
	assert.Equal(t, set(pool.actionSet(), verify.actionSet()), cfnCampaignPool.actionSet(), "CloudFormation's CampaignUserPoolPolicy: a pool campaign (policy-pool-source.json) and --verify-users (policy-verify-users.json)")
	var workerTable []string
	for _, a := range worker.actionSet() {
		switch {
		case strings.HasPrefix(a, "dynamodb:"):
			workerTable = append(workerTable, a)
		default:
			assert.True(t, strings.HasPrefix(a, "sqs:"), "queue worker: %s", a)
		}
	}
	assert.Equal(t, campaignTable, workerTable, "policy-queue-worker.json: the queue workers use the ledger table (DynamoDBAPI)")
	for _, p := range append([]policy{worker, producer, pool, verify, keda, ledgerTable, ledgerAdmin, fleetRate, invite, *cfnWorker, *cfnVerify, *cfnFleet, *cfnCampaign, *cfnCampaignPool, *cfnInvite}, cfnKeda...) {
		for a, res := range p.Actions {
			assert.NotContains(t, a, "*", "%s: wildcard action %s", p.Name, a)
			assert.NotEqual(t, "cognito-idp:ResendConfirmationCode", a, "%s: the resend call is unauthenticated; granting it is noise", p.Name)
			for _, r := range res {
				assert.NotEqual(t, "*", r, "%s: %s on every resource", p.Name, a)
			}
		}
	}

	// Resources: the worker consumes the queue, sends only to the DLQ, claims in the
	// table; the ledger policies name the table alone.
	queueARN := "arn:aws:sqs:REGION:ACCOUNT_ID:cognito-resend"
	dlqARN := queueARN + "-dlq"
	tableARN := "arn:aws:dynamodb:REGION:ACCOUNT_ID:table/cognito-resend-ledger"
	for a, res := range worker.Actions {
		want := []string{queueARN}
		switch {
		case a == "sqs:SendMessage":
			want = []string{dlqARN}
		case strings.HasPrefix(a, "dynamodb:"):
			want = []string{tableARN}
		}
		assert.Equal(t, want, res, "policy-queue-worker.json: %s", a)
	}
	for _, p := range []policy{ledgerTable, ledgerAdmin, fleetRate} {
		for a, res := range p.Actions {
			assert.Equal(t, []string{tableARN}, res, "%s: %s on the ledger table only (no index, no other table)", p.Name, a)
		}
	}
	assert.Equal(t, []string{queueARN}, producer.Actions["sqs:SendMessage"], "policy-producer.json")
	for _, p := range []policy{pool, verify} {
		for a, res := range p.Actions {
			assert.Regexp(t, `^arn:aws:cognito-idp:[A-Z0-9_-]+:[A-Z0-9_]+:userpool/[A-Za-z0-9_-]+$`, strings.Join(res, ","), "%s: %s on the one user pool", p.Name, a)
		}
	}
	for _, p := range []*policy{cfnVerify, cfnCampaignPool} {
		for a, res := range p.Actions {
			assert.Equal(t, []string{"!Ref UserPoolArn"}, res, "%s: %s on the one user pool", p.Name, a)
		}
	}

	queue, dlq := cfnQueues(t)
	table := cfnLedgerTable(t)
	for a, res := range cfnWorker.Actions {
		want := []string{"!GetAtt " + queue + ".Arn"}
		switch {
		case a == "sqs:SendMessage":
			want = []string{"!GetAtt " + dlq + ".Arn"}
		case strings.HasPrefix(a, "dynamodb:"):
			want = []string{"!GetAtt " + table + ".Arn"}
		}
		assert.Equal(t, want, res, "%s: %s", cfnWorker.Name, a)
	}
	for _, p := range []*policy{cfnFleet, cfnCampaign} {
		for a, res := range p.Actions {
			assert.Equal(t, []string{"!GetAtt " + table + ".Arn"}, res, "%s: %s on the ledger table only", p.Name, a)
		}
	}

	// KEDA reads the queue length, nothing else.
	assert.Equal(t, map[string][]string{"sqs:GetQueueAttributes": {queueARN}}, keda.Actions, "policy-keda-scaler.json")
	for _, p := range cfnKeda {
		assert.Equal(t, map[string][]string{"sqs:GetQueueAttributes": {"!GetAtt " + queue + ".Arn"}}, p.Actions, p.Name)
	}
}

// --fleet-rate's grant covers the fleets' partitions of the ledger table only
// (dynamodb:LeadingKeys on fleet.PartitionPrefix): a replica's heartbeat PutItem and its
// DeleteItem could otherwise overwrite or delete any user's claim. Both copies, the JSON
// policy and the stack's QueueWorkerFleetPolicy, carry the condition on every statement.
func TestFleetPolicyIsLimitedToTheFleetsPartitions(t *testing.T) {
	want := []string{fleet.PartitionPrefix + "*"}
	var doc struct {
		Statement []struct {
			Condition map[string]map[string][]string `json:"Condition"`
		} `json:"Statement"`
	}
	file := filepath.Join(iamDir, "policy-fleet-rate.json")
	require.NoError(t, json.Unmarshal(readFile(t, file), &doc), file)
	require.NotEmpty(t, doc.Statement, file)
	for i, s := range doc.Statement {
		assert.Equal(t, map[string]map[string][]string{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": want}}, s.Condition, "%s statement %d", file, i)
	}
	docs := yamlNodes(t, cfnFile)
	require.Len(t, docs, 1)
	stmts := mapGetSeq(path(docs[0], "Resources", "QueueWorkerFleetPolicy", "Properties", "PolicyDocument", "Statement"))
	require.NotEmpty(t, stmts, "%s: QueueWorkerFleetPolicy has no statement", cfnFile)
	for i, s := range stmts {
		assert.Equal(t, want, scalars(path(s, "Condition", "ForAllValues:StringLike", "dynamodb:LeadingKeys")), "%s QueueWorkerFleetPolicy statement %d", cfnFile, i)
	}
}
