package deploy_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	Line int
	Cmd  string // upper case
	Args string
}

type stage struct {
	Image string
	Name  string
	Ins   []instruction
}

// parseDockerfile splits a Dockerfile into stages. It knows comments, parser directives,
// backslash continuations and the JSON (exec) form; that is all this kit uses.
func parseDockerfile(t *testing.T, text string) []stage {
	t.Helper()
	var ins []instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimRight(raw, " \t\r")
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // comment inside a continuation
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if body, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(body)
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(line)
		full := strings.TrimSpace(cur.String())
		cur.Reset()
		cmd, args, _ := strings.Cut(full, " ")
		ins = append(ins, instruction{Line: start, Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)})
	}
	require.Zero(t, cur.Len(), "Dockerfile ends inside a continuation")
	var stages []stage
	for _, in := range ins {
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			var st stage
			for i := 0; i < len(f); i++ {
				switch {
				case strings.HasPrefix(f[i], "--"):
				case strings.EqualFold(f[i], "AS") && i+1 < len(f):
					st.Name = f[i+1]
					i++
				case st.Image == "":
					st.Image = f[i]
				}
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			require.Equal(t, "ARG", in.Cmd, "line %d: %s before the first FROM", in.Line, in.Cmd)
			continue
		}
		stages[len(stages)-1].Ins = append(stages[len(stages)-1].Ins, in)
	}
	require.NotEmpty(t, stages, "no FROM")
	return stages
}

func dockerStages(t *testing.T) []stage {
	return parseDockerfile(t, string(readFile(t, dockerfile)))
}

// imageUser returns the final stage's USER as uid (and gid, -1 if absent).
func imageUser(t *testing.T) (int64, int64) {
	t.Helper()
	stages := dockerStages(t)
	final := stages[len(stages)-1]
	user := ""
	for _, in := range final.Ins {
		if in.Cmd == "USER" {
			user = in.Args
		}
	}
	require.NotEmpty(t, user, "the final stage has no USER: the image would run as root")
	u, g, hasGroup := strings.Cut(user, ":")
	uid, err := strconv.ParseInt(u, 10, 64)
	require.NoError(t, err, "USER %q must be numeric so that runAsNonRoot can verify it", user)
	gid := int64(-1)
	if hasGroup {
		gid, err = strconv.ParseInt(g, 10, 64)
		require.NoError(t, err, "USER %q: numeric group", user)
	}
	return uid, gid
}

func TestDockerfile(t *testing.T) {
	stages := dockerStages(t)
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage: a Go builder and a minimal runtime")
	final := stages[len(stages)-1]

	t.Run("final stage is minimal and non-root", func(t *testing.T) {
		assert.Regexp(t, `^(scratch|gcr\.io/distroless/static(-debian\d+)?(:[\w.-]+)?(@sha256:[0-9a-f]{64})?)$`, final.Image, "runtime image: scratch or distroless static")
		uid, gid := imageUser(t)
		assert.NotZero(t, uid, "USER 0 is root")
		assert.NotZero(t, gid, "group 0 is root's")
		for _, in := range final.Ins {
			if in.Cmd == "RUN" {
				assert.True(t, strings.HasPrefix(in.Args, "["), "line %d: shell-form RUN in the final stage: it has no shell", in.Line)
			}
			if in.Cmd == "ENTRYPOINT" || in.Cmd == "CMD" {
				assert.True(t, strings.HasPrefix(in.Args, "["), "line %d: %s in shell form needs /bin/sh", in.Line, in.Cmd)
			}
		}
	})

	t.Run("entrypoint is the static binary", func(t *testing.T) {
		var entry []string
		var copies []instruction
		for _, in := range final.Ins {
			switch in.Cmd {
			case "ENTRYPOINT":
				require.NoError(t, json.Unmarshal([]byte(in.Args), &entry), "line %d", in.Line)
			case "COPY":
				copies = append(copies, in)
			}
		}
		require.Equal(t, []string{"/" + binaryName}, entry)

		// COPY --from=<builder> <what go build -o wrote> /cognito-resend
		require.Len(t, copies, 1, "the final stage copies the binary only")
		f := strings.Fields(copies[0].Args)
		require.Len(t, f, 3, "COPY --from=STAGE SRC DST")
		from, ok := strings.CutPrefix(f[0], "--from=")
		require.True(t, ok, "COPY must take the binary from the builder stage")
		var builder *stage
		for i := range stages[:len(stages)-1] {
			if stages[i].Name == from || strconv.Itoa(i) == from {
				builder = &stages[i]
			}
		}
		require.NotNil(t, builder, "COPY --from=%s: no such stage", from)
		assert.Equal(t, "/"+binaryName, f[2])

		var build string
		for _, in := range builder.Ins {
			if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
				build = in.Args
			}
		}
		require.NotEmpty(t, build, "the builder stage has no `go build`")
		env := builderEnv(builder)
		assert.True(t, strings.Contains(build, "CGO_ENABLED=0") || env["CGO_ENABLED"] == "0", "CGO_ENABLED=0: a static binary for a libc-less image")
		assert.Contains(t, build, "-trimpath")
		// The Makefile's LDFLAGS, with $(VAR) as the Dockerfile's ${VAR} build args.
		mk := regexp.MustCompile(`(?m)^LDFLAGS\s*:?=\s*(.+?)\s*$`).FindSubmatch(readFile(t, filepath.Join(repoRoot, "Makefile")))
		require.NotNil(t, mk, "no LDFLAGS := ... line in the Makefile")
		want := regexp.MustCompile(`\$\((\w+)\)`).ReplaceAllString(string(mk[1]), `$${$1}`)
		require.Contains(t, want, "-X main.version=${VERSION}")
		ld := regexp.MustCompile(`-ldflags\s+"([^"]*)"`).FindStringSubmatch(build)
		require.NotNil(t, ld, `go build -ldflags "..."`)
		assert.Equal(t, want, ld[1], "-ldflags as the Makefile's LDFLAGS")
		assert.Regexp(t, `\./cmd/cognito-resend(\s|$)`, build)
		out := regexp.MustCompile(`-o\s+(\S+)`).FindStringSubmatch(build)
		require.NotNil(t, out, "go build -o PATH")
		assert.Equal(t, out[1], f[1], "COPY source must be what go build wrote")
	})

	t.Run("builder Go matches go.mod", func(t *testing.T) {
		gm := regexp.MustCompile(`(?m)^go\s+(\d+\.\d+)`).FindSubmatch(readFile(t, filepath.Join(repoRoot, "go.mod")))
		require.NotNil(t, gm, "no go directive in go.mod")
		want := string(gm[1])
		m := regexp.MustCompile(`^golang:(\d+\.\d+)`).FindStringSubmatch(stages[0].Image)
		require.NotNil(t, m, "the first stage must be golang:<version>, got %s", stages[0].Image)
		assert.Equal(t, want, m[1], "builder image Go version vs go.mod's go directive")
	})

	t.Run("EXPOSE is the metrics port", func(t *testing.T) {
		for _, in := range final.Ins {
			if in.Cmd == "EXPOSE" {
				port, _, _ := strings.Cut(in.Args, "/")
				for _, w := range workloads(t, loadObjects(t)) {
					for _, c := range w.Spec.Containers {
						for _, p := range c.Ports {
							if p.Name == metricsPortName {
								assert.Equal(t, port, strconv.Itoa(p.ContainerPort), "%s: metrics port vs the Dockerfile's EXPOSE", w)
							}
						}
					}
				}
			}
		}
	})
}

func builderEnv(s *stage) map[string]string {
	env := map[string]string{}
	for _, in := range s.Ins {
		if in.Cmd != "ENV" {
			continue
		}
		for _, kv := range strings.Fields(in.Args) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
	}
	return env
}

// The build context is the repository root filtered by Dockerfile.dockerignore: no
// package the binary imports, nor go.mod/go.sum, may be excluded.
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	var patterns []string
	for _, l := range strings.Split(string(readFile(t, dockerfile+".dockerignore")), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		require.False(t, strings.HasPrefix(l, "!"), "negations are not modelled by this test: %q", l)
		patterns = append(patterns, strings.TrimPrefix(l, "/"))
	}
	ignored := func(rel string) string {
		parts := strings.Split(rel, "/")
		for _, p := range patterns {
			for i := 1; i <= len(parts); i++ {
				prefix := strings.Join(parts[:i], "/")
				if ok, _ := filepath.Match(p, prefix); ok {
					return p
				}
				if rest, ok := strings.CutPrefix(p, "**/"); ok {
					if m, _ := filepath.Match(rest, parts[i-1]); m {
						return p
					}
				}
			}
		}
		return ""
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		assert.Empty(t, ignored(f), "%s is excluded from the build context", f)
	}
	cmd := exec.Command("go", "list", "-deps", "-f", `{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{"\n"}}{{end}}{{end}}`, "./cmd/"+binaryName)
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	pkgs := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkgs++
		dir, err := filepath.Rel(root, f[0])
		require.NoError(t, err)
		for _, g := range f[1:] {
			rel := filepath.ToSlash(filepath.Join(dir, g))
			assert.Empty(t, ignored(rel), "%s (imported by the binary) is excluded by Dockerfile.dockerignore", rel)
		}
	}
	assert.GreaterOrEqual(t, pkgs, 2, "go list found too few of the module's packages:\n%s", out)
}
