package worker_test

import (
	"go/ast"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// More house rules of CONTRIBUTING.md, checked on the product code like rules_test.go's.

const (
	clockPkg  = "github.com/cognito-resend/cognito-resend/worker/clock"
	pacingPkg = "github.com/cognito-resend/cognito-resend/worker/pacing"
)

// nilClockAllowed are the files that may turn a nil clock into the system clock, and
// why: none. A clock is required where time matters (clock.Must: a nil one is a
// programming error), and the production wiring passes clock.Real() itself.
var nilClockAllowed = map[string]string{}

// TestNoSilentClock: no product code makes a nil clock the system clock — neither by a
// helper (the former clock.Or) nor by hand (if x == nil { x = clock.Real() }): a test's
// fake clock would be undone without a word.
func TestNoSilentClock(t *testing.T) {
	t.Parallel()
	used := map[string]bool{}
	for file, f := range productFiles(t) {
		for _, c := range silentClocks(f) {
			if nilClockAllowed[file] != "" {
				used[file] = true
				continue
			}
			t.Errorf("%s:%d: %s makes a nil clock the system clock: require it (clock.Must, or an error from "+
				"the constructor) and pass clock.Real() where the production wiring builds it", file, c.line, c.call)
		}
	}
	for file := range nilClockAllowed {
		if !used[file] {
			t.Errorf("%s is allowed a nil clock but no longer needs it: remove it from nilClockAllowed and CONTRIBUTING.md", file)
		}
	}
}

func TestSilentClocksFindsEveryForm(t *testing.T) {
	t.Parallel()
	requireFinds(t, `package p
import (
	"github.com/cognito-resend/cognito-resend/worker/clock"
	wc "github.com/cognito-resend/cognito-resend/worker/clock"
)
func f(c Config) clock.Clock {
	c.Clock = clock.Or(c.Clock)
	_ = wc.Or(nil)
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if nil == c.Other {
		return wc.Real()
	}
	if c.Clock == nil {
		panic("required")
	}
	return clock.Must(c.Clock, "p.Config")
}`, silentClocks, "clock.Or", "clock.Or", "if nil: clock.Real", "if nil: clock.Real")
}

// silentClocks lists f's nil-clock fallbacks: calls of clock.Or, and if-nil blocks that
// reach for clock.Real().
func silentClocks(f *ast.File) []clockCall {
	names := importedAs(f, clockPkg)
	isClock := func(e ast.Expr, fn string) bool {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != fn {
			return false
		}
		id, ok := sel.X.(*ast.Ident)
		return ok && names[id.Name]
	}
	var found []clockCall
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if isClock(n.Fun, "Or") {
				found = append(found, clockCall{call: "clock.Or", line: fset.Position(n.Pos()).Line})
			}
		case *ast.IfStmt:
			cond, ok := n.Cond.(*ast.BinaryExpr)
			if !ok || cond.Op != token.EQL || !(isNil(cond.X) || isNil(cond.Y)) {
				return true
			}
			ast.Inspect(n.Body, func(m ast.Node) bool {
				if call, ok := m.(*ast.CallExpr); ok && isClock(call.Fun, "Real") {
					found = append(found, clockCall{call: "if nil: clock.Real", line: fset.Position(n.Pos()).Line})
				}
				return true
			})
		}
		return true
	})
	return found
}

func isNil(e ast.Expr) bool { id, ok := e.(*ast.Ident); return ok && id.Name == "nil" }

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
