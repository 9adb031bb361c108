package worker_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The house rules of CONTRIBUTING.md that a reading of the source can check. Each test
// walks the product code (every non-test .go file under worker/, config/ and cmd/) with
// go/parser, so a new file is checked without being listed.

// timeCalls are the functions that read or wait on the system clock. Product code reads
// time through worker/clock (github.com/jonboulle/clockwork), so tests drive it with a
// fake clock instead of sleeping.
var timeCalls = map[string][]string{
	"time":    {"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick"},
	"context": {"WithTimeout", "WithDeadline", "WithTimeoutCause", "WithDeadlineCause"},
}

// networkDeadlines are the named exceptions of CONTRIBUTING.md ("One clock"): the bound
// of one network call is a deadline the SDK's HTTP transport must see, measured on the
// machine's clock as the server's answer is. Every other budget (settle, shutdown,
// renewals, expiries) goes through the clock. Key: file (slash-separated, from the repo
// root); value: why.
var networkDeadlines = map[string]string{
	"worker/cognito/call.go":           "--call-timeout: one Cognito call's HTTP deadline",
	"worker/dynamoledger/call.go":      "--ledger-call-timeout: one DynamoDB call's HTTP deadline",
	"worker/source/sqssource/dlq.go":   "one SQS call's HTTP deadline (GetQueueAttributes, SendMessage)",
	"worker/source/sqssource/batch.go": "one SQS batch call's HTTP deadline",
	"worker/source/enqueue/enqueue.go": "the SendMessageBatch flush after a stop: one SQS call's HTTP deadline",
	"worker/engine/engine.go":          "the settle budget: the deadline of the acks, releases and ledger finishes after a stop",
	"worker/campaign/shutdown.go":      "the settle budget: the deadline of the SQS and table calls after the engine stopped",
	"worker/campaign/sources.go":       "the queue source's start (GetQueueAttributes): SQS calls' HTTP deadline",
}

// clockDebt are budgets that are not network deadlines and still use the system clock:
// none. Keep it empty; a file listed here that no longer needs it fails the test too.
var clockDebt = map[string]string{}

func TestOneClock(t *testing.T) {
	t.Parallel()

	used := map[string]bool{}
	for file, f := range productFiles(t) {
		if strings.HasPrefix(file, "worker/clock/") {
			continue
		}
		for _, c := range systemClockCalls(f) {
			excepted := networkDeadlines[file] != "" || clockDebt[file] != ""
			if excepted && strings.HasPrefix(c.call, "context.") {
				used[file] = true
				continue
			}
			t.Errorf("%s:%d: %s reads the system clock: use worker/clock (a network call's deadline is a "+
				"named exception in CONTRIBUTING.md and in networkDeadlines)", file, c.line, c.call)
		}
	}
	for _, list := range []map[string]string{networkDeadlines, clockDebt} {
		for file := range list {
			if !used[file] {
				t.Errorf("%s is listed as an exception but no longer needs it: remove it from the list and from CONTRIBUTING.md", file)
			}
		}
	}
}

// The check itself finds what it must: plain and renamed imports, calls and values.
func TestSystemClockCallsFindsEveryForm(t *testing.T) {
	t.Parallel()

	src := `package p
import (
	"context"
	stdtime "time"
)
func f(ctx context.Context) {
	_ = stdtime.Now()
	after := stdtime.After
	_, _ = context.WithTimeout(ctx, 0)
	_ = after
	var d stdtime.Duration
	_ = d
}`
	requireFinds(t, src, systemClockCalls, "time.Now", "time.After", "context.WithTimeout")
}

// requireFinds fails t unless find finds exactly want in the Go source src, in order:
// the checks of the house rules are tested on what they must catch.
func requireFinds[C interface{ name() string }](t *testing.T, src string, find func(*ast.File) []C, want ...string) {
	t.Helper()
	f, err := parser.ParseFile(fset, "p.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range find(f) {
		got = append(got, c.name())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("found %v, want %v", got, want)
	}
}

type clockCall struct {
	call string // e.g. "time.Now"
	line int
}

func (c clockCall) name() string { return c.call }

// systemClockCalls lists f's uses of timeCalls, in source order.
func systemClockCalls(f *ast.File) []clockCall {
	names := importNames(f)
	var found []clockCall
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		if pkg, ok := names[id.Name]; ok && slices.Contains(timeCalls[pkg], sel.Sel.Name) {
			found = append(found, clockCall{call: pkg + "." + sel.Sel.Name, line: fset.Position(sel.Pos()).Line})
		}
		return true
	})
	return found
}

var fset = token.NewFileSet()

// productFiles parses every non-test Go file of the product (worker/, config/, cmd/).
func productFiles(t *testing.T) map[string]*ast.File {
	t.Helper()
	root := repoRoot(t)
	files := map[string]*ast.File{}
	for _, dir := range []string{"worker", "config", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			files[filepath.ToSlash(rel)] = f
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 50 {
		t.Fatalf("found %d product files: the walk is broken", len(files))
	}
	return files
}

// importNames maps the names a file refers to its imports by ("time" → "time") to the
// import path, for the standard packages the rules watch.
func importNames(f *ast.File) map[string]string {
	names := map[string]string{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if _, watched := timeCalls[path]; !watched {
			continue
		}
		name := path
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = path
	}
	return names
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
