package deploy_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
	"github.com/cognito-resend/cognito-resend/worker/fleet"
)

// The ledger table holds two kinds of record: users' (pk "user#...", worker/dynamoledger)
// and fleets' heartbeats (pk "fleet#...", worker/fleet). Each grant of item actions is
// limited to its own partitions by dynamodb:LeadingKeys, so the fleet policy's condition
// means something: a table-wide PutItem beside it would let a replica's heartbeat grant
// overwrite any user's claim, and the ledger grant write heartbeats.

const ledgerPkg = "../worker/dynamoledger"

// itemActions act on items, and so carry dynamodb:LeadingKeys.
var itemActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
	"dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"}

// userPartitionPrefix reads dynamoledger's userPrefix constant and checks that every
// partition key the package builds (AttrPK: attr.S(...)) starts with it.
func userPartitionPrefix(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(ledgerPkg, "*.go"))
	require.NoError(t, err)
	fset := token.NewFileSet()
	var prefix string
	keys := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if name.Name == "userPrefix" && i < len(n.Values) {
						if bl, ok := n.Values[i].(*ast.BasicLit); ok {
							prefix, _ = strconv.Unquote(bl.Value)
						}
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); !ok || k.Name != "AttrPK" {
					return true
				}
				call, ok := n.Value.(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					return true // a key copied from another record
				}
				keys++
				left := call.Args[0]
				for {
					b, ok := left.(*ast.BinaryExpr)
					if !ok {
						break
					}
					left = b.X
				}
				id, ok := left.(*ast.Ident)
				// The daily budget's counters (BudgetPartition) have a policy of their own.
				assert.True(t, ok && (id.Name == "userPrefix" || id.Name == "BudgetPartition"),
					"%s: a partition key that does not start with userPrefix (nor is BudgetPartition): the ledger policies allow user#* only",
					fset.Position(n.Pos()))
			}
			return true
		})
	}
	require.NotEmpty(t, prefix, "no `userPrefix = \"...\"` constant in %s", ledgerPkg)
	require.Positive(t, keys, "no `AttrPK: attr.S(...)` in %s: the test no longer sees how the ledger builds its keys", ledgerPkg)
	return prefix
}

// grant is one statement: its actions and its ForAllValues:StringLike
// dynamodb:LeadingKeys (nil: no condition; any other condition fails the test).
type grant struct {
	where   string
	actions []string
	keys    []string
}

func jsonGrants(t *testing.T, file string) []grant {
	t.Helper()
	var doc struct {
		Statement []struct {
			Sid       string
			Action    any
			Condition map[string]map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(readFile(t, file), &doc), file)
	var out []grant
	for i, s := range doc.Statement {
		g := grant{where: file + " statement " + strconv.Itoa(i) + " " + s.Sid, actions: stringsOf(s.Action)}
		for op, kv := range s.Condition {
			for k, v := range kv {
				require.Equal(t, "ForAllValues:StringLike", op, "%s: condition operator", g.where)
				require.Equal(t, "dynamodb:LeadingKeys", k, "%s: condition key", g.where)
				g.keys = stringsOf(v)
			}
		}
		out = append(out, g)
	}
	return out
}

func cfnGrants(t *testing.T, where string, stmts []*yaml.Node) []grant {
	t.Helper()
	var out []grant
	for i, s := range stmts {
		g := grant{where: where + " statement " + strconv.Itoa(i), actions: scalars(path(s, "Action"))}
		if c := path(s, "Condition"); c != nil {
			require.Equal(t, []string{"ForAllValues:StringLike"}, mapKeys(c), "%s: condition operator", g.where)
			require.Equal(t, []string{"dynamodb:LeadingKeys"}, mapKeys(path(c, "ForAllValues:StringLike")), "%s: condition key", g.where)
			g.keys = scalars(path(c, "ForAllValues:StringLike", "dynamodb:LeadingKeys"))
		}
		out = append(out, g)
	}
	return out
}

func TestLedgerGrantsAreLimitedToTheirPartitions(t *testing.T) {
	users := []string{userPartitionPrefix(t) + "*"}
	fleets := []string{fleet.PartitionPrefix + "*"}
	require.False(t, strings.HasPrefix(users[0], strings.TrimSuffix(fleets[0], "*")) || strings.HasPrefix(fleets[0], strings.TrimSuffix(users[0], "*")),
		"the users' (%s) and the fleets' (%s) partitions overlap: the two grants would reach each other's records", users, fleets)

	docs := yamlNodes(t, cfnFile)
	require.Len(t, docs, 1)
	res := path(docs[0], "Resources")
	inline := func(role string) []*yaml.Node {
		pols := mapGetSeq(path(res, role, "Properties", "Policies"))
		require.Len(t, pols, 1, "%s: %s has one inline policy", cfnFile, role)
		return mapGetSeq(path(pols[0], "PolicyDocument", "Statement"))
	}
	byPartition := map[string][]grant{}
	for _, f := range []string{"policy-ledger-table.json", "policy-queue-worker.json"} {
		byPartition["users"] = append(byPartition["users"], jsonGrants(t, filepath.Join(iamDir, f))...)
	}
	byPartition["users"] = append(byPartition["users"], cfnGrants(t, cfnFile+" QueueWorkerRole", inline("QueueWorkerRole"))...)
	byPartition["users"] = append(byPartition["users"], cfnGrants(t, cfnFile+" CampaignRole", inline("CampaignRole"))...)
	byPartition["fleets"] = append(jsonGrants(t, filepath.Join(iamDir, "policy-fleet-rate.json")),
		cfnGrants(t, cfnFile+" QueueWorkerFleetPolicy", mapGetSeq(path(res, "QueueWorkerFleetPolicy", "Properties", "PolicyDocument", "Statement")))...)

	// --daily-budget's counters (worker/dynamoledger/budget.go): their own partitions and policy.
	budgets := []string{strings.SplitAfter(dynamoledger.BudgetPartition, "#")[0] + "*"}
	for _, other := range [][]string{users, fleets} {
		require.False(t, strings.HasPrefix(budgets[0], strings.TrimSuffix(other[0], "*")) || strings.HasPrefix(other[0], strings.TrimSuffix(budgets[0], "*")),
			"the budgets' (%s) and %s partitions overlap", budgets, other)
	}
	byPartition["budgets"] = append(jsonGrants(t, filepath.Join(iamDir, "policy-daily-budget.json")),
		cfnGrants(t, cfnFile+" DailyBudgetPolicy", mapGetSeq(path(res, "DailyBudgetPolicy", "Properties", "PolicyDocument", "Statement")))...)
	want := map[string][]string{"users": users, "fleets": fleets, "budgets": budgets}
	for part, gs := range byPartition {
		items := 0
		for _, g := range gs {
			hasItems := slices.ContainsFunc(g.actions, func(a string) bool { return slices.Contains(itemActions, a) })
			dynamo := slices.ContainsFunc(g.actions, func(a string) bool { return strings.HasPrefix(a, "dynamodb:") })
			switch {
			case hasItems:
				items++
				assert.Equal(t, want[part], g.keys, "%s: item actions %v only on the %s' partitions (dynamodb:LeadingKeys)", g.where, g.actions, part)
			case dynamo:
				// Table-level actions (DescribeTable) have no key; a LeadingKeys condition
				// on them would be vacuous (ForAllValues of nothing is true): none.
				assert.Nil(t, g.keys, "%s: a LeadingKeys condition on table actions %v means nothing", g.where, g.actions)
			}
		}
		assert.Positive(t, items, "no grant of item actions found for the %s' partitions", part)
	}
}
