package main

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/testenv/emu"
	"github.com/cognito-resend/cognito-resend/testenv/quotasim"
)

// A ledger table in another region than the user pool's (issue 20, point 6): two
// dynalites stand for two regions behind one endpoint, which routes each request by the
// region its signature names (as DynamoDB's regional endpoints would).

var signedRegion = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([a-z0-9-]+)/dynamodb/`)

// regionRouter is a DynamoDB endpoint whose regions are dynalites (region → endpoint);
// a request signed for any other region is refused.
func regionRouter(t *testing.T, regions map[string]string) string {
	t.Helper()
	proxies := map[string]*httputil.ReverseProxy{}
	for region, endpoint := range regions {
		u, err := url.Parse(endpoint)
		require.NoError(t, err)
		p := httputil.NewSingleHostReverseProxy(u)
		p.ErrorLog = log.New(io.Discard, "", 0) // a region that does not answer is the test's point
		proxies[region] = p
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := signedRegion.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil || proxies[m[1]] == nil {
			http.Error(w, "no such region", http.StatusBadGateway)
			return
		}
		proxies[m[1]].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestLedgerRegion(t *testing.T) {
	t.Parallel()
	needIntegration(t)
	east, west := emu.Dynamo(t, emu.WithTableDelay(0)), emu.Dynamo(t, emu.WithTableDelay(0))
	endpoint := regionRouter(t, map[string]string{"us-east-1": east.Endpoint, "eu-west-1": west.Endpoint, "us-west-2": "http://127.0.0.1:1"})
	sim := quotasim.StartT(t, quotasim.Config{})
	env := ledgerEnv(sim.URL, endpoint) // AWS_REGION=us-east-1: the pool's region
	dir := t.TempDir()
	run := func(stdin string, args ...string) runResult {
		t.Helper()
		return runBin(t, dir, env, stdin, args...)
	}

	// init in the table's region; the output names it.
	res := run("", "ledger", "init", "--ledger-table", "ledger", "--ledger-region", "eu-west-1")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "table ledger in eu-west-1 created")
	_, err := emu.NewDynamoClient(west.Endpoint).DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("ledger")})
	require.NoError(t, err, "created in eu-west-1's dynalite")
	_, err = emu.NewDynamoClient(east.Endpoint).DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("ledger")})
	require.Error(t, err, "not in us-east-1's")

	// The table in eu-west-1, looked up in the pool's region: named with its region, and
	// init is suggested with a caution (no other region was named).
	res = run("ann\n", "run", "--csv", "-", "--report", "r0.csv", "--ledger-table", "ledger")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "--ledger-table: ledger table ledger does not exist in us-east-1: if the ledger is in another region, "+
		"set --ledger-region; else create it with `cognito-resend ledger init --ledger-table ledger --ledger-region us-east-1`")

	// --ledger-region: the campaign claims there.
	res = run("ann\n", "run", "--csv", "-", "--report", "r1.csv", "--ledger-table", "ledger", "--ledger-region", "eu-west-1", "--campaign-id", "west")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, map[string][]string{"ann": {"sent"}}, statuses(t, filepath.Join(dir, "r1.csv")))
	require.Contains(t, res.stderr, `"ledger_region":"eu-west-1"`)
	res = runBin(t, dir, append(env, "COGNITO_RESEND_LEDGER_REGION=eu-west-1"), "", "ledger", "show", "--ledger-table", "ledger", "ann")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, `ann  SENT  sent at `)
	require.Contains(t, res.stdout, `campaign="west"`)
	res = run("", "ledger", "show", "--ledger-table", "ledger", "ann")
	require.Equal(t, 2, res.code, "the table is not in us-east-1: %s", res.stderr)
	require.Contains(t, res.stderr, "ledger table ledger does not exist in us-east-1")

	// A wrong --ledger-region while the table is in --region's: that table is named, and
	// init is not suggested (a second, empty ledger would forget who was sent a code).
	res = run("", "ledger", "init", "--ledger-table", "east-ledger")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "table east-ledger in us-east-1 created")
	res = run("ann\n", "run", "--csv", "-", "--report", "r2.csv", "--ledger-table", "east-ledger", "--ledger-region", "eu-west-1")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "ledger table east-ledger does not exist in eu-west-1 (--ledger-region), but a table of that name exists "+
		"in us-east-1 (--region): if that is the ledger, set --ledger-region us-east-1; do not create a second one, which would be empty")
	require.NotContains(t, res.stderr, "ledger init")
	res = run("", "ledger", "show", "--ledger-table", "east-ledger", "--ledger-region", "eu-west-1", "ann")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "but a table of that name exists in us-east-1 (--region)")

	// In neither region named: init, in the table's region.
	res = run("ann\n", "run", "--csv", "-", "--report", "r3.csv", "--ledger-table", "nowhere", "--ledger-region", "eu-west-1")
	require.Equal(t, 2, res.code, res.stderr)
	require.Contains(t, res.stderr, "ledger table nowhere does not exist in eu-west-1 (--ledger-region) nor in us-east-1 (--region): "+
		"create it with `cognito-resend ledger init --ledger-table nowhere --ledger-region eu-west-1`")

	// A table that does not answer (exit 3: nothing sent) is named with its region.
	res = run("ann\n", "run", "--csv", "-", "--report", "r4.csv", "--ledger-table", "ledger", "--ledger-region", "us-west-2")
	require.Equal(t, 3, res.code, res.stderr)
	require.Contains(t, res.stderr, "ledger table unreachable: table ledger in us-west-2: describe_table: ")
	require.Equal(t, int64(1), sim.Sim.Stats().Successes, "one code, to ann, in all of it")

	// Creating the table in --ledger-region while --region has one of that name: done as
	// asked, with a warning that it is a second, empty ledger.
	res = run("", "ledger", "init", "--ledger-table", "east-ledger", "--ledger-region", "eu-west-1")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "table east-ledger in eu-west-1 created")
	require.Contains(t, res.stdout, "warning: a table named east-ledger also exists in us-east-1 (--region): this one in eu-west-1 is empty")
}
