package worker_test

import (
	"go/ast"
	"go/parser"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The "one retry layer" rule of CONTRIBUTING.md: pacing.Retry is the one place that
// waits and tries again. A hand-written wait-and-retry loop is a `for` whose body waits
// on the clock itself (clock.Sleep, a Clock's Sleep, NewTimer or After): the check finds
// those outside worker/clock and worker/pacing.

// loopPauses are the named exceptions: a loop's wait on the clock that retries nothing,
// named by its file (slash-separated, from the repo root) and the identifier of the
// pause it waits.
var loopPauses = []struct{ file, pause, why string }{
	{"worker/source/sqssource/receive.go", "idlePause", "a pause between answered polls of an empty queue (WaitTimeSeconds 0), not a retry"},
}

func TestOneRetryLoop(t *testing.T) {
	t.Parallel()

	used := map[int]bool{}
	for file, f := range productFiles(t) {
		if strings.HasPrefix(file, "worker/clock/") || strings.HasPrefix(file, "worker/pacing/") {
			continue
		}
	waits:
		for _, w := range loopWaits(f) {
			for i, p := range loopPauses {
				if p.file == file && slices.Contains(w.args, p.pause) {
					used[i] = true
					continue waits
				}
			}
			t.Errorf("%s:%d: %s inside a for loop waits and tries again by hand: use pacing.Retry with a named "+
				"pacing.Policy (a pause that retries nothing is a named exception in loopPauses)", file, w.line, w.call)
		}
	}
	for i, p := range loopPauses {
		if !used[i] {
			t.Errorf("loopPauses names %s in %s, which no loop waits any more: remove it", p.pause, p.file)
		}
	}
}

// The check finds the forms it must, and leaves a time comparison alone.
func TestLoopWaitsFindsEveryForm(t *testing.T) {
	t.Parallel()

	src := `package p
func f(ctx context.Context, clk clock.Clock, s *S, t, u time.Time) {
	for {
		_ = clock.Sleep(ctx, clk, time.Second)
	}
	for range 3 {
		<-s.clock.NewTimer(time.Second).Chan()
		if t.After(u) {
			break
		}
	}
	for i := 0; i < 3; i++ {
		<-clk.After(time.Second)
	}
	_ = clock.Sleep(ctx, clk, time.Second) // not in a loop: a single wait
}`
	requireFinds(t, src, loopWaits, "clock.Sleep", "s.clock.NewTimer", "clk.After")
	f, _ := parser.ParseFile(fset, "p.go", src, parser.SkipObjectResolution)
	if args := loopWaits(f)[0].args; !slices.Contains(args, "Second") || !slices.Contains(args, "clk") {
		t.Fatalf("args of the first wait: %v", args)
	}
}

// loopWait is a wait on the clock in a loop, with the identifiers its arguments name.
type loopWait struct {
	clockCall
	args []string
}

// clockNamed matches an expression that names a clock (clk, clock, s.clock, cfg.Clock).
var clockNamed = regexp.MustCompile(`(?i)(^|\.)(clk|clock)$`)

// loopWaits lists the clock waits written directly in the body of a for loop of f, in
// source order (a wait inside a function literal in the loop is the literal's own).
func loopWaits(f *ast.File) []loopWait {
	var found []loopWait
	seen := map[ast.Node]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		var body *ast.BlockStmt
		switch l := n.(type) {
		case *ast.ForStmt:
			body = l.Body
		case *ast.RangeStmt:
			body = l.Body
		default:
			return true
		}
		ast.Inspect(body, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok {
				return false
			}
			call, ok := n.(*ast.CallExpr)
			if !ok || seen[call] {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			recv := exprString(sel.X)
			wait := false
			switch sel.Sel.Name {
			case "Sleep":
				wait = recv == "clock" || clockNamed.MatchString(recv)
			case "NewTimer", "After":
				wait = clockNamed.MatchString(recv)
			}
			if wait {
				seen[call] = true
				w := loopWait{clockCall: clockCall{call: recv + "." + sel.Sel.Name, line: fset.Position(call.Pos()).Line}}
				for _, a := range call.Args {
					ast.Inspect(a, func(n ast.Node) bool {
						if id, ok := n.(*ast.Ident); ok {
							w.args = append(w.args, id.Name)
						}
						return true
					})
				}
				found = append(found, w)
			}
			return true
		})
		return true
	})
	slices.SortFunc(found, func(a, b loopWait) int { return a.line - b.line })
	return found
}

// exprString is a selector chain as written ("s.cfg.Clock"), or "" for anything else.
func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if x := exprString(e.X); x != "" {
			return x + "." + e.Sel.Name
		}
	}
	return ""
}
