package worker_test

import (
	"go/ast"
	"strconv"
	"strings"
	"testing"
)

// More house rules of CONTRIBUTING.md, checked on the product code like rules_test.go's.

const (
	pacingPkg = "github.com/cognito-resend/cognito-resend/worker/pacing"
)

// importedAs is the names f refers to the import path by.
func importedAs(f *ast.File, path string) map[string]bool {
	names := map[string]bool{}
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			name := path[strings.LastIndex(path, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = true
		}
	}
	return names
}

// retryOptions are config's retry options: the one place that builds a pacing.Policy
// from them is config.Config.Retry.
var retryOptions = []string{"MaxAttempts", "BackoffBase", "BackoffMax"}

// TestOneRetryPolicy: the retry policy of the Cognito calls is built from --max-attempts,
// --backoff-base and --backoff-max in one place (config.Config.Retry); every caller takes
// the pacing.Policy (cognito.Resender.Retry, Inviter.Retry, userpool.Verifier.Retry,
// Lister.Policy, CaseOptions.Policy) instead of the three fields.
func TestOneRetryPolicy(t *testing.T) {
	t.Parallel()
	for file, f := range productFiles(t) {
		if file == "config/config.go" {
			continue
		}
		for _, c := range policiesFromOptions(f) {
			t.Errorf("%s:%d: a pacing.Policy built from %s: take config.Config.Retry() (or a Policy field) instead",
				file, c.line, c.call)
		}
	}
}

func TestPoliciesFromOptionsFindsEveryForm(t *testing.T) {
	t.Parallel()
	requireFinds(t, `package p
import "github.com/cognito-resend/cognito-resend/worker/pacing"
func f(r R, cfg C) {
	_ = pacing.Policy{Attempts: r.MaxAttempts, Base: r.BackoffBase, Max: r.BackoffMax}
	_ = pacing.Policy{Attempts: 3, Base: cfg.BackoffBase}
	_ = pacing.Policy{Attempts: 3, Base: time.Second}
	_ = cfg.Retry()
}`, policiesFromOptions, "r.MaxAttempts", "cfg.BackoffBase")
}

// policiesFromOptions lists f's pacing.Policy literals that read one of retryOptions
// (named by the first such field).
func policiesFromOptions(f *ast.File) []clockCall {
	names := importedAs(f, pacingPkg)
	var found []clockCall
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok || !isPolicy(lit.Type, names, f.Name.Name == "pacing") {
			return true
		}
		for _, el := range lit.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			if sel, ok := kv.Value.(*ast.SelectorExpr); ok && contains(retryOptions, sel.Sel.Name) {
				found = append(found, clockCall{call: exprString(sel), line: fset.Position(lit.Pos()).Line})
				break
			}
		}
		return true
	})
	return found
}

func isPolicy(t ast.Expr, pacingNames map[string]bool, inPacing bool) bool {
	switch t := t.(type) {
	case *ast.SelectorExpr:
		id, ok := t.X.(*ast.Ident)
		return ok && pacingNames[id.Name] && t.Sel.Name == "Policy"
	case *ast.Ident:
		return inPacing && t.Name == "Policy"
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
