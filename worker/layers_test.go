package worker_test

import (
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
	"worker/job": 0, "worker/clock": 0, "worker/clock/clocktest": 0, "worker/dynamoledger/attr": 0,
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
// builds no AWS client and makes no AWS call of its own.
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
	}
}
