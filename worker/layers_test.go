package worker_test

import (
	"go/ast"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/cognito-resend/cognito-resend/"

// layers are worker/doc.go's layers, lowest first: a package imports only packages of
// lower layers, so no import runs back up and the map stays true. A new package fails
// TestLayers until it is placed here and on the map in doc.go.
var layers = map[string]int{
	"worker/job": 0, "worker/clock": 0, "worker/clock/clocktest": 0, "worker/dynamoledger/attr": 0, "worker/words": 0,
	"worker/admit": 1, "worker/pacing": 1, "worker/budget": 1, "worker/awserr": 1,
	"worker/cognito":  2,
	"worker/userpool": 3, "worker/metrics": 3, "worker/source/csvsource": 3,
	"worker/records": 4, "worker/dynamoledger": 4, "worker/source/sqssource": 4, "worker/source/poolsource": 4,
	"worker/engine": 5, "worker/fleet": 5, "worker/source/enqueue": 5, "worker/reportset": 5,
	"worker/source/lambdasource": 5,
	"config":                     6,
	"worker/campaign":            7,
	"cmd/cognito-resend":         8,
}

func TestLayers(t *testing.T) {
	t.Parallel()

	imports := map[string]map[string]bool{} // package → the project's packages it imports
	for file, f := range productFiles(t) {
		pkg := filepath.ToSlash(filepath.Dir(file))
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if dep, ok := strings.CutPrefix(path, module); ok {
				imports[pkg][dep] = true
			}
		}
	}
	for pkg, deps := range imports {
		if pkg == "worker" {
			continue // the map itself: doc.go only
		}
		layer, ok := layers[pkg]
		if !ok {
			t.Errorf("%s is on no layer: place it in layers and on the map in worker/doc.go", pkg)
			continue
		}
		for dep := range deps {
			if l, ok := layers[dep]; ok && l >= layer {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports run down the layers only", pkg, layer, dep, l)
			}
		}
	}
	for pkg := range layers {
		if _, err := os.Stat(filepath.Join(repoRoot(t), pkg)); err != nil {
			t.Errorf("layers names %s, which is gone", pkg)
		}
	}
}

// cmd/cognito-resend wires flags to config and campaign and renders what comes back: it
// builds no AWS client and makes no AWS call of its own, and validates no option (config's
// Validate, ValidateEnqueue and ValidateLedger do).
func TestCmdWiresOnly(t *testing.T) {
	t.Parallel()

	for file, f := range productFiles(t) {
		if !strings.HasPrefix(file, "cmd/") {
			continue
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/aws/") {
				t.Errorf("%s imports %s: AWS clients and calls belong in worker/campaign and below", file, path)
			}
		}
		for _, v := range validationIn(f) {
			t.Errorf("%s:%d: %s: validation belongs in config (Validate, ValidateEnqueue, ValidateLedger)", file, v.line, v.call)
		}
	}
}

// The check finds what it must: an option error built by hand, a package's own validity
// check called; not a Config's validation method.
func TestValidationInFindsEveryForm(t *testing.T) {
	t.Parallel()

	src := `package main
import (
	"github.com/cognito-resend/cognito-resend/config"
	dl "github.com/cognito-resend/cognito-resend/worker/dynamoledger"
)
func f(cfg config.Config) error {
	if msg := dl.ValidTableName(cfg.LedgerTable); msg != "" {
		return &config.FieldError{Field: "ledger-table", Msg: msg}
	}
	_ = config.FieldError{}
	return cfg.ValidateLedger(config.LedgerInit)
}`
	requireFinds(t, src, validationIn, "dl.ValidTableName", "config.FieldError", "config.FieldError")
}

// validationIn lists f's option validation: a config.FieldError built (config names the
// bad field), and a call of another package's Valid… function (dynamoledger.ValidTableName,
// fleet.ValidName, …), in source order.
func validationIn(f *ast.File) []clockCall {
	pkgs := map[string]string{} // name in the file → import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		pkgs[name] = path
	}
	var found []clockCall
	ast.Inspect(f, func(n ast.Node) bool {
		var sel *ast.SelectorExpr
		switch n := n.(type) {
		case *ast.CompositeLit:
			if s, ok := n.Type.(*ast.SelectorExpr); ok && s.Sel.Name == "FieldError" {
				sel = s
			}
		case *ast.CallExpr:
			if s, ok := n.Fun.(*ast.SelectorExpr); ok && strings.HasPrefix(s.Sel.Name, "Valid") {
				sel = s
			}
		}
		if sel == nil {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && pkgs[id.Name] != "" {
			found = append(found, clockCall{call: id.Name + "." + sel.Sel.Name, line: fset.Position(sel.Pos()).Line})
		}
		return true
	})
	return found
}

// Metrics sit behind small recorder interfaces declared by the packages that count
// (sqssource.Recorder, dynamoledger.Recorder, metrics.Call read of a cognito.Outcome):
// only the assembly (campaign) and cmd import worker/metrics, and metrics imports no
// mechanism but job's types.
func TestMetricsBehindRecorders(t *testing.T) {
	t.Parallel()

	for file, f := range productFiles(t) {
		pkg := filepath.ToSlash(filepath.Dir(file))
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			dep, ok := strings.CutPrefix(path, module)
			if !ok {
				continue
			}
			if dep == "worker/metrics" && pkg != "worker/campaign" && !strings.HasPrefix(pkg, "cmd/") {
				t.Errorf("%s imports worker/metrics: declare the recorder it uses and let campaign pass *metrics.Metrics", file)
			}
			if pkg == "worker/metrics" && dep != "worker/job" {
				t.Errorf("%s imports %s: metrics reads other packages through small interfaces and funcs", file, dep)
			}
		}
	}
}
