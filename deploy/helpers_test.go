// Package deploy_test checks the deploy kit (Dockerfile, Kubernetes manifests, IAM
// policies, CloudFormation template) against the program it deploys: the flags and
// environment variables the binary's help lists, the defaults in package config, and the
// AWS calls declared in the worker packages. Everything here is what can drift silently.
package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const (
	repoRoot   = ".."
	k8sDir     = "kubernetes"
	iamDir     = "iam"
	cfnFile    = "cloudformation/queue.yaml"
	dockerfile = "Dockerfile"
	binaryName = "cognito-resend"
)

// ---------------------------------------------------------------------------------------
// The program's help: built once for the whole package.

var (
	helpText   string // `cognito-resend run --help`
	rootHelp   string // `cognito-resend --help`
	helpErr    error
	buildDir   string
	binaryPath string
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "cognito-resend-deploy-test-")
		if err != nil {
			helpErr = err
			return m.Run()
		}
		defer os.RemoveAll(dir)
		buildDir = dir
		binaryPath = filepath.Join(dir, binaryName)
		helpErr = buildAndReadHelp()
		return m.Run()
	}()
	os.Exit(code)
}

func buildAndReadHelp() error {
	build := exec.Command("go", "build", "-o", binaryPath, "./cmd/cognito-resend")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/cognito-resend: %v\n%s", err, out)
	}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(binaryPath, args...)
		cmd.Env = []string{} // the help must not depend on the caller's environment
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("cognito-resend %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String() + stderr.String(), nil
	}
	var err error
	if helpText, err = run("run", "--help"); err != nil {
		return err
	}
	rootHelp, err = run("--help")
	return err
}

// flagInfo is one option of `cognito-resend run --help`.
type flagInfo struct {
	Name string
	Type string   // "string", "int", "float", "duration"; "" for a bool flag
	Envs []string // the [$A, $B] list
}

const cmdDir = "../cmd/cognito-resend"

// flagTypes reads the flag types from the command's source: the help can't tell a bool
// flag from one that takes a value (urfave/cli prints a `quoted` word of the usage as
// the value's placeholder, even for a BoolFlag).
func flagTypes(t *testing.T) map[string]string {
	t.Helper()
	kinds := map[string]string{
		"BoolFlag": "", "StringFlag": "string", "StringSliceFlag": "string", "IntFlag": "int",
		"Int64Flag": "int", "UintFlag": "int", "FloatFlag": "float", "DurationFlag": "duration",
	}
	files, err := filepath.Glob(filepath.Join(cmdDir, "*.go"))
	require.NoError(t, err)
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := lit.Type.(*ast.SelectorExpr)
			if !ok || !strings.HasSuffix(sel.Sel.Name, "Flag") {
				return true
			}
			kind, known := kinds[sel.Sel.Name]
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok || fmt.Sprint(kv.Key) != "Name" {
					continue
				}
				if bl, ok := kv.Value.(*ast.BasicLit); ok && bl.Kind == token.STRING {
					name, _ := strconv.Unquote(bl.Value)
					if !known {
						kind = "?" + sel.Sel.Name
					}
					if prev, dup := out[name]; dup && prev != kind {
						t.Errorf("flag --%s declared as %q and %q in different commands", name, prev, kind)
					}
					out[name] = kind
				}
			}
			return true
		})
	}
	require.NotEmpty(t, out, "no cli.XxxFlag literals found in %s", cmdDir)
	return out
}

var (
	flagLineRE = regexp.MustCompile(`^\s+(--[a-z][a-z0-9-]*)(.*)$`)
	envListRE  = regexp.MustCompile(`\[(\$[A-Z][A-Z0-9_]*(?:, \$[A-Z][A-Z0-9_]*)*)\]\s*$`)
)

// runFlags parses the OPTIONS of `cognito-resend run --help` (urfave/cli v3 format:
// "--name type   usage (default: x) [$ENV_A, $ENV_B]").
func runFlags(t *testing.T) map[string]flagInfo {
	t.Helper()
	require.NoError(t, helpErr, "building the binary and reading its help")
	types := flagTypes(t)
	flags := map[string]flagInfo{}
	for _, line := range strings.Split(helpText, "\n") {
		m := flagLineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		// The synopsis ends at the first run of two or more spaces.
		synopsis, _, _ := strings.Cut(strings.TrimSpace(line), "  ")
		fields := strings.Fields(strings.ReplaceAll(synopsis, ",", " "))
		fi := flagInfo{Name: strings.TrimPrefix(m[1], "--")}
		if fi.Name != "help" {
			typ, ok := types[fi.Name]
			require.True(t, ok, "--%s is in the help but no cli.XxxFlag{Name: %q} was found in %s", fi.Name, fi.Name, cmdDir)
			fi.Type = typ
		}
		if e := envListRE.FindStringSubmatch(line); e != nil {
			for _, v := range strings.Split(e[1], ", ") {
				fi.Envs = append(fi.Envs, strings.TrimPrefix(v, "$"))
			}
		}
		for _, f := range fields {
			if strings.HasPrefix(f, "-") {
				flags[strings.TrimLeft(f, "-")] = fi // an alias resolves to the flag's name
			}
		}
	}
	require.NotEmpty(t, flags, "no flags found in `cognito-resend run --help`:\n%s", helpText)
	require.Contains(t, flags, "client-id", "help parser is broken or the help format changed:\n%s", helpText)
	return flags
}

// envToFlag maps every environment variable the help lists to its flag.
func envToFlag(t *testing.T) map[string]flagInfo {
	t.Helper()
	out := map[string]flagInfo{}
	for _, f := range runFlags(t) {
		for _, e := range f.Envs {
			out[e] = f
		}
	}
	require.NotEmpty(t, out, "no [$ENV] names in `cognito-resend run --help`:\n%s", helpText)
	return out
}

// ---------------------------------------------------------------------------------------
// Files.

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// filesUnder lists the files below dir (relative to deploy/) with one of the extensions.
func filesUnder(t *testing.T, dir string, exts ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		for _, e := range exts {
			if strings.HasSuffix(p, e) {
				out = append(out, p)
			}
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(out)
	return out
}

// yamlNodes decodes every document of a YAML stream into yaml.Node, which accepts
// CloudFormation's short-form tags (!Ref, !GetAtt, !Sub...).
func yamlNodes(t *testing.T, path string) []*yaml.Node {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, path)))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "%s: document %d", path, len(docs)+1)
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue // empty document
		}
		docs = append(docs, &n)
	}
	return docs
}

// checkNoDuplicateKeys walks a node tree: yaml.Node decoding does not reject a key that
// appears twice in one mapping (the second would silently win in most consumers).
func checkNoDuplicateKeys(t *testing.T, path string, n *yaml.Node) {
	t.Helper()
	if n.Kind == yaml.MappingNode {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if line, dup := seen[k.Value]; dup {
				t.Errorf("%s:%d: key %q already defined at line %d", path, k.Line, k.Value, line)
			}
			seen[k.Value] = k.Line
		}
	}
	for _, c := range n.Content {
		checkNoDuplicateKeys(t, path, c)
	}
}

// mapGet returns the value node of key in a mapping node, or nil.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// path follows keys through nested mappings.
func path(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = mapGet(n, k)
	}
	return n
}

// mapKeys lists a mapping node's keys in order.
func mapKeys(n *yaml.Node) []string {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

// scalars returns a scalar's value, or a sequence of scalars' values.
func scalars(n *yaml.Node) []string {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.ScalarNode:
		return []string{n.Value}
	case n.Kind == yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			out = append(out, scalars(c)...)
		}
		return out
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
