package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// Outages and bad settings (issue 12, items 1-3): the built binary against a closed
// port, a host name that does not resolve, and the quota simulator failing every call.

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// lastLine is the last non-empty line of s: the process's one-line reason to exit.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// stderrLines counts the lines of s that contain sub.
func stderrLines(s, sub string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

// A closed port: the breaker warns with the endpoint and the error at every trip, the
// campaign stops after --max-outage with exit 3 and one line naming endpoint, error and
// fix; no user has a row and no intent is left open, so --resume calls everyone once
// and reports nobody unknown (item 2).
func TestClosedPortStopsAfterMaxOutage(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	addr := closedPort(t)
	dir := t.TempDir()
	csvPath, users := writeUsersCSV(t, dir, 60)
	args := []string{"run", "--csv", csvPath, "--report", "r.csv", "--rate", "50", "--workers", "8",
		"--max-attempts", "2", "--backoff-base", "20ms", "--backoff-max", "100ms", "--log-format", "text"}
	start := time.Now()
	res := runBin(t, dir, append(baseEnv("http://"+addr), "COGNITO_CLIENT_ID=c"), "",
		append(args, "--max-outage", "3s")...)
	took := time.Since(start)
	t.Logf("closed port, --max-outage 3s: exit %d after %s", res.code, took.Round(time.Millisecond))
	require.Equal(t, 3, res.code, res.stderr)
	require.GreaterOrEqual(t, took, 3*time.Second, "not before --max-outage")
	require.Less(t, took, 8*time.Second, "soon after --max-outage")

	cause := "dial tcp " + addr + ": connect: connection refused"
	require.Equal(t, "cognito-resend: campaign stopped: Cognito unreachable: no answer from "+addr+" for 3s ("+cause+"); "+
		"fix: check the endpoint override (http://"+addr+", from AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER or AWS_ENDPOINT_URL), "+
		"the network path to "+addr+" (firewall, VPC endpoint, NAT) and any proxy (none set); then run again with --resume",
		lastLine(res.stderr))
	require.Equal(t, 1, stderrLines(res.stderr, "breaker open)"), res.stderr)
	require.GreaterOrEqual(t, stderrLines(res.stderr, "breaker still open)"), 1, "a warning every time it stays open")
	for _, l := range strings.Split(res.stderr, "\n") {
		if strings.Contains(l, "breaker") {
			require.Contains(t, l, "level=WARN")
			require.Contains(t, l, "endpoint="+addr)
			require.Contains(t, l, `error="`+cause+`"`)
		}
	}
	require.Contains(t, res.stderr, "summary: 0 rows [] in ")
	require.Contains(t, res.stderr, "summary: stopped with 60 of 60 rows left, not attempted (no row); "+
		"the same command with --resume --report r.csv continues")
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	require.Empty(t, rows, "no user reached Cognito: no row, not failed")

	// The network is back: --resume calls every user once; nobody is unknown.
	sim := quotasim.StartT(t, quotasim.Config{})
	res = runBin(t, dir, append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c"), "", append(args, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, 0, checkCampaign(t, filepath.Join(dir, "r.csv"), sim, users), "no refused call left an unknown user")
	require.Equal(t, int64(60), sim.Sim.Stats().Successes)
	require.Contains(t, res.stderr, "summary: this run: 60 rows [sent=60]")
	require.Contains(t, res.stderr, "summary: whole campaign (earlier runs and this one): 60 rows [sent=60]")
}

// A host name that does not exist (the endpoint's, or a mistyped region's) is a setting,
// not an outage: when the resolver says NXDOMAIN the campaign stops at the breaker's
// first trip, well before the default --max-outage of 2m, without hanging and without a
// row. Where the resolver can't answer at all the lookup fails otherwise: then it is an
// outage like any other (checked with a short --max-outage).
func TestUnresolvableHostStops(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	const host = "nonexistent.invalid"
	_, lookupErr := net.DefaultResolver.LookupHost(t.Context(), host)
	var dnsErr *net.DNSError
	require.ErrorAs(t, lookupErr, &dnsErr)
	dir := t.TempDir()
	csvPath, _ := writeUsersCSV(t, dir, 40)
	args := []string{"run", "--csv", csvPath, "--report", "r.csv", "--log-format", "text"}
	if !dnsErr.IsNotFound {
		t.Logf("the resolver here answers %v, not NXDOMAIN: an ordinary outage", lookupErr)
		args = append(args, "--max-outage", "2s")
	}
	start := time.Now()
	res := runBin(t, dir, append(baseEnv("http://"+host+":1"), "COGNITO_CLIENT_ID=c"), "", args...)
	took := time.Since(start)
	t.Logf("unresolvable endpoint host: exit %d after %s", res.code, took.Round(time.Millisecond))
	require.Equal(t, 3, res.code, res.stderr)
	require.Less(t, took, 10*time.Second)
	line := lastLine(res.stderr)
	require.Contains(t, line, "cognito-resend: campaign stopped: Cognito unreachable: ")
	require.Contains(t, line, "lookup "+host)
	require.Contains(t, line, "fix: ")
	if dnsErr.IsNotFound {
		require.Contains(t, line, "host name "+host+" does not exist")
		require.Contains(t, line, "that host name does not exist: check the endpoint override (http://"+host+":1")
		require.Less(t, took, 5*time.Second, "no wait for --max-outage")
	}
	require.Contains(t, res.stderr, "summary: stopped with 40 of 40 rows left")
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	require.Empty(t, rows)
}

// A connection-refused outage shorter than --max-outage costs no attempt: with
// --max-attempts 2 every user still ends sent, none failed (a refused connection can't
// have reached Cognito, so it is retried for free until the breaker gives up).
func TestRefusedOutageShorterThanMaxOutage(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	first := quotasim.StartT(t, quotasim.Config{})
	addr := strings.TrimPrefix(first.URL, "http://")
	dir := t.TempDir()
	csvPath, users := writeUsersCSV(t, dir, 150)
	cmd, stderr := startBin(t, dir, append(baseEnv(first.URL), "COGNITO_CLIENT_ID=c"), "run", "--csv", csvPath,
		"--report", "r.csv", "--rate", "50", "--workers", "4", "--max-attempts", "2",
		"--backoff-base", "20ms", "--backoff-max", "200ms", "--max-outage", "1m", "--log-format", "text")
	waitSuccesses(t, first, 20, cmd)
	require.NoError(t, first.Close()) // the endpoint goes away: connection refused
	time.Sleep(3 * time.Second)       // the outage lasts 3 s (wall time of the scenario)
	second, err := quotasim.StartAddr(t.Context(), addr, quotasim.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Close() })
	require.NoError(t, cmd.Wait(), stderr.String())

	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	require.Len(t, rows, len(users))
	for _, r := range rows {
		require.Equal(t, "sent", r["status"], "%v", r)
	}
	require.Equal(t, int64(len(users)), first.Sim.Stats().Successes+second.Sim.Stats().Successes)
	require.Contains(t, stderr.String(), "breaker open)")
	require.Contains(t, stderr.String(), "Cognito answering again (breaker closed)")
}

// Every call answered 500: an outage too, but a 5xx may have reached Cognito, so the
// users whose calls were in flight stay ambiguous and a --resume reports them unknown
// instead of calling them again.
func TestServerErrorsStopAfterMaxOutage(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{P5xx: 1, Seed: 4})
	addr := strings.TrimPrefix(sim.URL, "http://")
	dir := t.TempDir()
	csvPath, _ := writeUsersCSV(t, dir, 40)
	args := []string{"run", "--csv", csvPath, "--report", "r.csv", "--rate", "50", "--workers", "4",
		"--max-attempts", "50", "--backoff-base", "20ms", "--backoff-max", "100ms", "--log-format", "text"}
	res := runBin(t, dir, append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c"), "", append(args, "--max-outage", "2s")...)
	require.Equal(t, 3, res.code, res.stderr)
	require.Contains(t, lastLine(res.stderr), "campaign stopped: Cognito unreachable: no answer from "+addr+
		" for 2s (HTTP 500 InternalErrorException: ")
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	require.Empty(t, rows)

	require.NoError(t, sim.Sim.SetConfig(quotasim.Config{}))
	res = runBin(t, dir, append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c"), "", append(args, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	_, rows = readCSVReport(t, filepath.Join(dir, "r.csv"))
	require.Len(t, rows, 40)
	unknown := 0
	for _, r := range rows {
		if r["status"] == "unknown" {
			unknown++
		}
	}
	require.Positive(t, unknown, "jobs whose 5xx attempts may have reached Cognito are not called again")
	require.LessOrEqual(t, unknown, 4, "at most the jobs the workers held")
}

// A malformed region is a usage error before any call, wherever it comes from (item 3).
func TestMalformedRegionIsUsageError(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{})
	dir := t.TempDir()
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	want := `"eu west 1" is not an AWS region name (like us-east-1, eu-central-2, us-gov-west-1)`
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		line string
	}{
		{"flag", env, []string{"--region", "eu west 1"}, "cognito-resend: --region: " + want},
		{"flag, dry run", env, []string{"--region", "eu west 1", "--dry-run"}, "cognito-resend: --region: " + want},
		{"own env", slices.Concat(env, []string{"COGNITO_RESEND_REGION=eu west 1"}), nil, "cognito-resend: --region: " + want},
		{"AWS_REGION", slices.Concat(env, []string{"AWS_REGION=eu west 1"}), nil, "cognito-resend: region from AWS_REGION: " + want},
		{"AWS_REGION, dry run", slices.Concat(env, []string{"AWS_REGION=eu west 1"}), []string{"--dry-run"},
			"cognito-resend: region from AWS_REGION: " + want},
	} {
		t.Run(tt.name, func(t *testing.T) {
			report := strings.ReplaceAll(tt.name, " ", "_") + ".csv"
			res := runBin(t, dir, tt.env, "a\nb\n", append([]string{"run", "--csv", "-", "--report", report}, tt.args...)...)
			require.Equal(t, 2, res.code, res.stderr)
			require.Equal(t, tt.line, lastLine(res.stderr))
			_, err := os.Stat(filepath.Join(dir, report))
			require.ErrorIs(t, err, os.ErrNotExist, "no report")
		})
	}
	require.Equal(t, int64(0), sim.Sim.Stats().Calls, "no call was made")
}

// config print shows the region a run will use and where it came from, resolved
// through the SDK's chain when no option sets it.
func TestConfigPrintRegion(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	dir := t.TempDir()
	awsCfg := filepath.Join(dir, "aws-config")
	require.NoError(t, os.WriteFile(awsCfg, []byte("[profile ops]\nregion = ap-southeast-5\n"), 0o600))
	cfgFile := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte("region: mx-central-1\n"), 0o600))
	base := func(extra ...string) []string {
		return slices.Concat([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_CONFIG_FILE=" + awsCfg,
			"AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "COGNITO_CLIENT_ID=c"}, extra)
	}
	const endpoint = "; Cognito endpoint https://cognito-idp."
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want string
		code int
	}{
		{"AWS_REGION", base("AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=us-west-2"), nil,
			`# region: "eu-west-1" (from AWS_REGION)` + endpoint + "eu-west-1.amazonaws.com", 0},
		{"AWS_DEFAULT_REGION", base("AWS_DEFAULT_REGION=us-west-2"), nil,
			`# region: "us-west-2" (from AWS_DEFAULT_REGION)` + endpoint + "us-west-2.amazonaws.com", 0},
		{"profile", base("AWS_PROFILE=ops"), nil,
			`# region: "ap-southeast-5" (from profile "ops" of ` + awsCfg + ")" + endpoint + "ap-southeast-5.amazonaws.com", 0},
		{"flag over AWS_REGION", base("AWS_REGION=eu-west-1"), []string{"--region", "il-central-1"},
			`# region: "il-central-1" (from --region)` + endpoint + "il-central-1.amazonaws.com", 0},
		{"own env", base("AWS_REGION=eu-west-1", "COGNITO_RESEND_REGION=us-gov-west-1"), nil,
			`# region: "us-gov-west-1" (from COGNITO_RESEND_REGION)` + endpoint + "us-gov-west-1.amazonaws.com", 0},
		{"config file", base("AWS_REGION=eu-west-1"), []string{"--config", cfgFile},
			`# region: "mx-central-1" (from config file ` + cfgFile + ")" + endpoint + "mx-central-1.amazonaws.com", 0},
		{"endpoint override", base("AWS_REGION=eu-west-1", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=http://127.0.0.1:9"), nil,
			`# region: "eu-west-1" (from AWS_REGION); Cognito endpoint http://127.0.0.1:9 (endpoint override)`, 0},
		{"none", base(), nil, "# region: not set (--region, COGNITO_RESEND_REGION, the config file, AWS_REGION, " +
			"AWS_DEFAULT_REGION or the AWS profile's region)", 2},
		{"malformed", base("AWS_REGION=eu west 1"), nil, `# region: "eu west 1" (from AWS_REGION)`, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runBin(t, dir, tt.env, "", append([]string{"config", "print", "--csv", "x.csv"}, tt.args...)...)
			require.Equal(t, tt.code, res.code, res.stdout+res.stderr)
			require.Contains(t, res.stdout, tt.want+"\n")
			if tt.code == 0 {
				m := regexp.MustCompile(`# region: "([^"]+)"`).FindStringSubmatch(res.stdout)
				require.Len(t, m, 2)
				require.Contains(t, res.stdout, "\nregion: "+m[1]+"\n", "the YAML shows the region that will be used")
			} else {
				require.Contains(t, res.stdout, "# NOT VALID: ")
			}
		})
	}
}

// After a stop the summary says how many rows are left and that --resume continues;
// after --resume it covers the whole campaign, with this run's part (item 6).
func TestStopSummaryAndResumedSummary(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	const n = 400
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 10 * time.Millisecond})
	dir := t.TempDir()
	csvPath, users := writeUsersCSV(t, dir, n)
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c")
	args := []string{"run", "--csv", csvPath, "--report", "r.csv", "--rate", "100", "--workers", "8", "--log-level", "warn"}
	cmd, stderr := startBin(t, dir, env, args...)
	waitSuccesses(t, sim, 60, cmd)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 3, ee.ExitCode(), stderr.String())
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	m := regexp.MustCompile(`summary: stopped with (\d+) of (\d+) rows left, not attempted \(no row\); ` +
		`the same command with --resume --report r.csv continues`).FindStringSubmatch(stderr.String())
	require.Len(t, m, 3, stderr.String())
	left, total := atoi(t, m[1]), atoi(t, m[2])
	require.Equal(t, n, total)
	require.Equal(t, n-len(rows), left, "rows left = total - rows written, not the jobs workers held")
	require.Greater(t, left, 8)
	require.Contains(t, stderr.String(), fmt.Sprintf("summary: %d rows [sent=%d]", len(rows), len(rows)))

	res := runBin(t, dir, env, "", append(args, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, fmt.Sprintf("summary: this run: %d rows [sent=%d]", left, left))
	require.Contains(t, res.stderr, fmt.Sprintf("summary: whole campaign (earlier runs and this one): %d rows [sent=%d]", n, n))
	require.NotContains(t, res.stderr, "summary: stopped")
	require.Equal(t, 0, checkCampaign(t, filepath.Join(dir, "r.csv"), sim, users))
}

// --yes keeps the total: a CSV file is counted before sending, and log-mode progress
// lines carry total, percent and ETA (item 7). Standard input can't be counted: its
// lines have none.
func TestYesKeepsTotalAndETA(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 10 * time.Millisecond})
	dir := t.TempDir()
	csvPath, _ := writeUsersCSV(t, dir, 60)
	env := append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c") // COGNITO_RESEND_YES=true: no prompt, no census by it
	progress := regexp.MustCompile(`"msg":"progress".*"total":60,"percent":"([0-9.]+)","eta":"[0-9hms.]+"`)
	res := runBin(t, dir, env, "", "run", "--csv", csvPath, "--report", "f.csv", "--rate", "30",
		"--progress", "log", "--progress-interval", "300ms", "--log-format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, `"msg":"campaign starting"`)
	require.Regexp(t, `"msg":"campaign starting".*"total":60`, res.stderr)
	lines := progress.FindAllStringSubmatch(res.stderr, -1)
	require.GreaterOrEqual(t, len(lines), 3, "a line every 300ms over a 2 s campaign:\n%s", res.stderr)
	for _, l := range lines {
		p, err := strconv.ParseFloat(l[1], 64)
		require.NoError(t, err)
		require.LessOrEqual(t, p, 100.0)
	}

	var in strings.Builder
	for i := range 20 {
		fmt.Fprintf(&in, "s%02d\n", i)
	}
	res = runBin(t, dir, env, in.String(), "run", "--csv", "-", "--report", "s.csv", "--rate", "30",
		"--progress", "log", "--progress-interval", "200ms", "--log-format", "json")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, `"msg":"progress"`)
	require.NotContains(t, res.stderr, `"total":`, "standard input is not counted")
}

// On a terminal with --yes the bar keeps its total (x/60), not a spinner (x/-).
func TestYesBarHasTotal(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	sim := quotasim.StartT(t, quotasim.Config{LatencyFixed: 10 * time.Millisecond})
	dir := t.TempDir()
	csvPath, _ := writeUsersCSV(t, dir, 60)
	cmd := exec.Command(binPath, "run", "--csv", csvPath, "--report", "r.csv", "--rate", "40", "--yes")
	cmd.Dir, cmd.Env = dir, append(baseEnv(sim.URL), "COGNITO_CLIENT_ID=c", "TERM=dumb")
	out := runPTY(t, cmd)
	require.Equal(t, 0, cmd.ProcessState.ExitCode(), out)
	require.Regexp(t, `\(\d+/60\)`, out, "the bar counts toward the total")
	require.NotContains(t, out, "/-)")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// runPTY runs cmd with a real terminal on stdin, stdout and stderr and returns what the
// terminal showed once it exited.
func runPTY(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	f, err := pty.Start(cmd)
	require.NoError(t, err)
	defer f.Close()
	out := &lockedBuffer{}
	done := make(chan struct{})
	go func() { _, _ = io.Copy(out, f); close(done) }()
	_ = cmd.Wait()
	f.Close()
	<-done
	return out.String()
}

// With --verify-users each user's AdminGetUser comes first, through its own limiter and
// breaker: an outage there stops the campaign after --max-outage too, with no `failed`
// row for a check that could not reach Cognito, and --resume carries on.
func TestVerifyUsersOutageStops(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	users := make([]string, 40)
	for i := range users {
		users[i] = fmt.Sprintf("vo%02d", i)
	}
	p := newPool(t, false, users, nil)
	first := quotasim.StartT(t, quotasim.Config{Upstream: cognitoURL})
	addr := strings.TrimPrefix(first.URL, "http://")
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "u.csv")
	require.NoError(t, os.WriteFile(csvPath, []byte("username\n"+strings.Join(users, "\n")+"\n"), 0o600))
	env := append(append(baseEnv(first.URL), dummyCreds...), "COGNITO_CLIENT_ID="+p.ClientID)
	args := []string{"run", "--csv", csvPath, "--report", "r.csv", "--verify-users", "--verify-with", "admin-get-user", "--user-pool-id", p.ID,
		"--rate", "10", "--verify-rate", "10", "--workers", "4", "--backoff-base", "20ms", "--backoff-max", "100ms",
		"--max-attempts", "2", "--log-format", "text"}
	cmd, stderr := startBin(t, dir, env, append(args, "--max-outage", "2s")...)
	waitSuccesses(t, first, 5, cmd)
	require.NoError(t, first.Close()) // the endpoint goes away for good
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, stderr.String())
	require.Equal(t, 3, ee.ExitCode(), stderr.String())
	require.Contains(t, lastLine(stderr.String()), "campaign stopped: Cognito unreachable: no answer from "+addr+" for 2s (")
	_, rows := readCSVReport(t, filepath.Join(dir, "r.csv"))
	require.Less(t, len(rows), len(users))
	for _, r := range rows {
		require.Equal(t, "sent", r["status"], "no failed row for a check that never reached Cognito: %v", r)
	}

	second, err := quotasim.StartAddr(t.Context(), addr, quotasim.Config{Upstream: cognitoURL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Close() })
	res := runBin(t, dir, env, "", append(args, "--resume")...)
	require.Equal(t, 0, res.code, res.stderr)
	got := statusOf(t, filepath.Join(dir, "r.csv"))
	require.Len(t, got, len(users))
	unknown := 0
	for u, st := range got {
		switch st {
		case "sent/":
		case "unknown/Unknown": // a resend in flight when the endpoint went away
			unknown++
		default:
			t.Fatalf("%s: %s", u, st)
		}
	}
	require.LessOrEqual(t, unknown, 4)
}
