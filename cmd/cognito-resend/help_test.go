package main

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v3"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-resend/cognito-resend/config"
)

// runCLI runs the program in-process, as main does, and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(string) string { return "" }
	code = run(append([]string{"cognito-resend"}, args...), strings.NewReader(""), &out, &errb, getenv)
	return code, out.String(), errb.String()
}

// helpSections splits a help text into its sections: heading ("SOURCE") → lines.
func helpSections(help string) (order []string, lines map[string][]string) {
	lines = map[string][]string{}
	cur := ""
	for _, l := range strings.Split(help, "\n") {
		if h, ok := strings.CutSuffix(l, ":"); ok && h != "" && h == strings.ToUpper(h) && !strings.HasPrefix(l, " ") {
			cur = h
			order = append(order, h)
			continue
		}
		if strings.TrimSpace(l) != "" {
			lines[cur] = append(lines[cur], l)
		}
	}
	return order, lines
}

var helpFlagLine = regexp.MustCompile(`^   (--[a-z][a-z0-9-]*)`)

func TestRunHelpGroups(t *testing.T) {
	t.Parallel()
	code, help, stderr := runCLI(t, "run", "--help")
	require.Equal(t, 0, code, stderr)
	order, sections := helpSections(help)

	var want []string
	for _, g := range flagGroups {
		want = append(want, strings.ToUpper(g))
	}
	want = append([]string{"NAME", "USAGE"}, append(want, "EXAMPLES")...)
	require.Equal(t, want, order, "sections in the order of flagGroups, then the examples")

	// Every flag is listed once, in the section of its group; within a group in the order
	// declared (wherever in runFlags a flag is added).
	listed := map[string][]string{} // section → flags
	count := map[string]int{}
	for _, sec := range order {
		for _, l := range sections[sec] {
			if m := helpFlagLine.FindStringSubmatch(l); m != nil {
				name := strings.TrimPrefix(m[1], "--")
				listed[sec] = append(listed[sec], name)
				count[name]++
			}
		}
	}
	declared := map[string][]string{}
	for _, f := range runFlags() {
		cf, ok := f.(cli.CategorizableFlag)
		require.True(t, ok)
		name := f.Names()[0]
		require.Contains(t, flagGroups, cf.GetCategory(), "--%s: Category must be one of flagGroups", name)
		require.Equal(t, 1, count[name], "--%s is listed once", name)
		sec := strings.ToUpper(cf.GetCategory())
		declared[sec] = append(declared[sec], name)
	}
	declared[strings.ToUpper(groupGeneral)] = append(declared[strings.ToUpper(groupGeneral)], "help") // no group: the last one
	for _, g := range flagGroups {
		sec := strings.ToUpper(g)
		require.NotEmpty(t, listed[sec], "group %q has no flag", g)
		require.Equal(t, declared[sec], listed[sec], "section %s", sec)
	}
}

func TestRunHelpExamples(t *testing.T) {
	t.Parallel()
	_, help, _ := runCLI(t, "run", "--help")
	_, sections := helpSections(help)
	ex := sections["EXAMPLES"]
	require.NotEmpty(t, ex)
	var cmds []string
	for _, l := range ex {
		if s := strings.TrimSpace(l); strings.HasPrefix(s, "cognito-resend ") {
			cmds = append(cmds, s)
		}
	}
	for _, want := range []string{"--csv users.csv .*--dry-run", "^cognito-resend run --csv [^ ]+ --client-id [^ ]+ --report [^ ]+$",
		"--resume", "--user-pool-id", "--csv [^ ]+ --user-pool-id [^ ]+ --verify-users", "run --sqs-queue-url", "^cognito-resend enqueue --csv"} {
		require.True(t, slices.ContainsFunc(cmds, regexp.MustCompile(want).MatchString), "an example matching %q in\n%s", want, strings.Join(cmds, "\n"))
	}

	// Every example parses: its command exists and takes each of its flags.
	flagsOf := map[string][]cli.Flag{"run": runFlags(), "enqueue": enqueueFlags()}
	for _, c := range cmds {
		words := strings.Fields(c)
		flags, ok := flagsOf[words[1]]
		require.True(t, ok, "example %q: unknown command", c)
		for _, w := range words[2:] {
			if !strings.HasPrefix(w, "--") {
				continue
			}
			name := strings.TrimPrefix(w, "--")
			require.True(t, slices.ContainsFunc(flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) }),
				"example %q: %s has no flag %s", c, words[1], w)
		}
	}
}

// describedDefaults are flags whose default is a rule, not a value.
var describedDefaults = map[string]string{
	"region":          "the standard AWS chain",
	"report":          "cognito-resend-report-<UTC time>.csv",
	"report-max-size": "64MiB in queue mode, else 0",
	"max-in-flight":   "twice --workers",
	"ledger-table":    "the file ledger beside the report",
	"campaign-id":     "the source and the start time",
	"ledger-region":   "--region",
	// unset: DesiredDeliveryMediums left out, Cognito's default applies
	"invitation-delivery": "unset, Cognito's own (SMS)",
	// empty in config.Default() so that --verify-with without --verify-users is told
	// apart; --verify-users reads with listusers unless told otherwise
	"verify-with": "listusers",
}

var renderedDefault = regexp.MustCompile(`\(default: (.*?)\)(?: \[\$|$)`)

// The default the help shows for each flag is config.Default()'s, shown once.
func TestRunHelpDefaults(t *testing.T) {
	t.Parallel()
	_, help, _ := runCLI(t, "run", "--help")

	var defaults map[string]any
	d := config.Default()
	y, err := d.YAML()
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(y, &defaults))

	bools := map[string]bool{}
	for _, f := range runFlags() {
		if b, ok := f.(*cli.BoolFlag); ok {
			bools[b.Name] = b.Value
		}
	}

	seen := 0
	for _, l := range strings.Split(help, "\n") {
		m := helpFlagLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		name := strings.TrimPrefix(m[1], "--")
		if name == "help" {
			continue
		}
		seen++
		require.LessOrEqual(t, strings.Count(l, "(default"), 1, "--%s shows its default twice: %s", name, l)
		dm := renderedDefault.FindStringSubmatch(l)
		if text, ok := describedDefaults[name]; ok {
			require.NotNil(t, dm, l)
			require.Equal(t, text, dm[1], "--%s", name)
			require.Empty(t, defaults[name], "--%s: a described default stands for a zero value in config.Default()", name)
			continue
		}
		if on, isBool := bools[name]; isBool && on {
			require.NotNil(t, dm, "--%s defaults to true: the help must say so: %s", name, l)
		}
		if dm == nil {
			require.True(t, isZero(defaults[name]), "--%s shows no default, but config.Default() has %v", name, defaults[name])
			continue
		}
		// The text shown, read back as the config file would read it, is the default.
		var c config.Config
		require.NoError(t, c.Apply([]byte(fmt.Sprintf("%s: %s\n", name, dm[1]))), "--%s default %q", name, dm[1])
		var got map[string]any
		y, err := c.YAML()
		require.NoError(t, err)
		require.NoError(t, yaml.Unmarshal(y, &got))
		require.Equal(t, defaults[name], got[name], "--%s: help shows %q", name, dm[1])
	}
	require.Equal(t, len(runFlags()), seen)
}

func isZero(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice {
		return rv.Len() == 0
	}
	return rv.IsZero()
}

func TestConfigPrintHelpGrouped(t *testing.T) {
	t.Parallel()
	code, help, _ := runCLI(t, "config", "print", "--help")
	require.Equal(t, 0, code)
	order, _ := helpSections(help)
	require.Contains(t, order, strings.ToUpper(groupSource))
	require.Contains(t, order, strings.ToUpper(groupQueue))
	require.NotContains(t, order, "EXAMPLES")
}

// A usage mistake is exactly one line on stderr, nothing on stdout, exit 2.
func TestUsageErrorsOneLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--rat", "5"}, "unknown flag --rat (did you mean --rate?); see 'cognito-resend run --help'"},
		{[]string{"run", "--csv", "-", "--rat=5"}, "unknown flag --rat (did you mean --rate?); see 'cognito-resend run --help'"},
		{[]string{"run", "--wokrers", "3"}, "unknown flag --wokrers (did you mean --workers?); see 'cognito-resend run --help'"},
		{[]string{"run", "--max_attempts", "3"}, "unknown flag --max_attempts (did you mean --max-attempts?); see 'cognito-resend run --help'"},
		{[]string{"run", "--max-in", "3"}, "unknown flag --max-in (did you mean --max-in-flight?); see 'cognito-resend run --help'"},
		{[]string{"run", "--frobnicate"}, "unknown flag --frobnicate; see 'cognito-resend run --help'"},
		{[]string{"run", "--rate", "fast"}, `--rate: want a number, got "fast"; see 'cognito-resend run --help'`},
		{[]string{"run", "--workers", "2.5"}, `--workers: want a whole number, got "2.5"; see 'cognito-resend run --help'`},
		{[]string{"run", "--call-timeout", "5"}, `--call-timeout: want a duration such as 500ms, 30s, 5m or 1h30m, got "5"; see 'cognito-resend run --help'`},
		{[]string{"run", "--adaptive=maybe"}, `--adaptive: want true or false, got "maybe"; see 'cognito-resend run --help'`},
		{[]string{"run", "--rate"}, "--rate needs a value: a number; see 'cognito-resend run --help'"},
		{[]string{"run", "--csv"}, "--csv needs a value; see 'cognito-resend run --help'"},
		{[]string{"config", "print", "--wokrers", "3"}, "unknown flag --wokrers (did you mean --workers?); see 'cognito-resend config print --help'"},
		{[]string{"enqueue", "--sqs-queue", "q"}, "unknown flag --sqs-queue (did you mean --sqs-queue-url?); see 'cognito-resend enqueue --help'"},
		{[]string{"--csv", "a.csv", "run"}, "--csv is an option of 'cognito-resend run'; put it after the command; see 'cognito-resend --help'"},
		// Unknown commands.
		{[]string{"rnu"}, "unknown command rnu (did you mean run?); see 'cognito-resend --help'"},
		{[]string{"enqeue", "--csv", "x"}, "unknown command enqeue (did you mean enqueue?); see 'cognito-resend --help'"},
		{[]string{"frobnicate"}, "unknown command frobnicate; see 'cognito-resend --help'"},
		{[]string{"help", "rnu"}, "unknown command rnu (did you mean run?); see 'cognito-resend --help'"},
		{[]string{"config", "prnt"}, "unknown command config prnt (did you mean config print?); see 'cognito-resend config --help'"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, tc.args...)
			require.Equal(t, exitUsage, code, stderr)
			require.Empty(t, stdout)
			require.Equal(t, "cognito-resend: "+tc.want+"\n", stderr)
		})
	}
}

func TestSecretFlagRefusedWithReason(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"--client-secret", "--client_secret", "--secret"} {
		code, stdout, stderr := runCLI(t, "run", "--csv", "-", flag, "s3cr3t-Value-42")
		require.Equal(t, exitUsage, code)
		require.Empty(t, stdout)
		require.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
		require.Contains(t, stderr, flag+": the client secret is never read from the command line")
		require.Contains(t, stderr, config.EnvClientSecret)
		require.Contains(t, stderr, "--client-secret-file")
		require.NotContains(t, stderr, "s3cr3t-Value-42")
	}
}

// An environment variable that doesn't parse is named, with its flag, in one line.
func TestEnvValueErrorOneLine(t *testing.T) {
	t.Setenv(envFor("rate"), "fast")
	code, stdout, stderr := runCLI(t, "run", "--csv", "-")
	require.Equal(t, exitUsage, code)
	require.Empty(t, stdout)
	require.Equal(t, `cognito-resend: COGNITO_RESEND_RATE (sets --rate): want a number, got "fast"`+"\n", stderr)
}

func TestHelpCommands(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"help"}, {"--help"}} {
		code, stdout, stderr := runCLI(t, args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		require.Contains(t, stdout, "COMMANDS:", "%v shows the root help", args)
	}
	for _, args := range [][]string{{"help", "run"}, {"run", "--help"}, {"run", "-h"}} {
		code, stdout, _ := runCLI(t, args...)
		require.Equal(t, 0, code, "%v", args)
		require.Contains(t, stdout, "EXAMPLES:", "%v shows run's help", args)
	}
	code, stdout, _ := runCLI(t, "config")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "print")
}

// The config file's errors reach the operator one per line, each naming the file.
func TestConfigFileErrorsPrinted(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/campaign.yaml"
	require.NoError(t, writeFile(path, "client-id: abc\ncsv: users.csv\nrat: 5\nclient-secret: s3cr3t-Value-42\nrate: fast\n"))
	code, stdout, stderr := runCLI(t, "run", "--config", path)
	require.Equal(t, exitUsage, code)
	require.Empty(t, stdout)
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	require.Len(t, lines, 3, stderr)
	require.Equal(t, "cognito-resend: "+path+`: line 3: unknown option "rat" (did you mean "rate"?)`, lines[0])
	require.True(t, strings.HasPrefix(lines[1], "cognito-resend: "+path+": line 4: client-secret: the client secret is never read"), lines[1])
	require.Equal(t, "cognito-resend: "+path+`: line 5: rate: want a number, got "fast"`, lines[2])
	require.NotContains(t, stderr, "s3cr3t-Value-42")
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

// The same through the built binary: main's exit code, and nothing else on stderr.
func TestMistypedFlagBinary(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	res := runBin(t, t.TempDir(), baseEnv("http://127.0.0.1:1"), "", "run", "--rat", "5")
	require.Equal(t, exitUsage, res.code)
	require.Empty(t, res.stdout)
	require.Equal(t, "cognito-resend: unknown flag --rat (did you mean --rate?); see 'cognito-resend run --help'\n", res.stderr)
	res = runBin(t, t.TempDir(), baseEnv("http://127.0.0.1:1"), "", "rnu")
	require.Equal(t, exitUsage, res.code)
	require.Equal(t, "cognito-resend: unknown command rnu (did you mean run?); see 'cognito-resend --help'\n", res.stderr)
}
