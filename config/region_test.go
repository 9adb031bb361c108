package config_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/config"
)

func TestCheckRegion(t *testing.T) {
	t.Parallel()

	for _, r := range []string{"us-east-1", "us-west-2", "eu-central-2", "eu-south-2", "ap-southeast-5",
		"ap-southeast-7", "ap-east-2", "us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1",
		"il-central-1", "mx-central-1", "me-central-1", "af-south-1", "ca-west-1", "sa-west-1",
		"eusc-de-east-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1",
		// Shapes of regions to come.
		"eu-north-2", "ap-southeast-12", "xx-newplace-1", "us-gov-central-1"} {
		require.NoError(t, config.CheckRegion(r), r)
	}
	for _, r := range []string{"", "eu west 1", "eu-west-1x", "EU-WEST-1", "eu-west", "euwest1", "eu_west_1",
		" us-east-1", "us-east-1 ", "us-east-1-fips", "aws-global", "https://cognito-idp.us-east-1.amazonaws.com",
		"us-east-1a", "u-east-1", "us--east-1", "us-east-"} {
		require.Error(t, config.CheckRegion(r), "%q", r)
	}
	require.EqualError(t, config.CheckRegion("eu west 1"),
		`"eu west 1" is not an AWS region name (like us-east-1, eu-central-2, us-gov-west-1)`)
	require.ErrorContains(t, config.CheckRegion("us-east-1-fips"), "AWS_USE_FIPS_ENDPOINT=true")

	c := validConfig()
	c.Region = "eu west 1"
	require.EqualError(t, c.Validate(), `--region: "eu west 1" is not an AWS region name (like us-east-1, eu-central-2, us-gov-west-1)`)
}

// Every region the SDK knows, and every shape its partitions accept, passes the check:
// the SDK's own endpoint data (internal/endpoints/awsrulesfn/partitions.json of the
// aws-sdk-go-v2 module this build uses).
func TestRegionShapeCoversSDKPartitions(t *testing.T) {
	t.Parallel()

	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go-v2").Output()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "endpoints", "awsrulesfn", "partitions.json"))
	require.NoError(t, err)
	var doc struct {
		Partitions []struct {
			ID          string                     `json:"id"`
			RegionRegex string                     `json:"regionRegex"`
			Regions     map[string]json.RawMessage `json:"regions"`
		} `json:"partitions"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.GreaterOrEqual(t, len(doc.Partitions), 7)
	checked := 0
	for _, p := range doc.Partitions {
		sdk := regexp.MustCompile(p.RegionRegex)
		for r := range p.Regions {
			if !sdk.MatchString(r) {
				continue // a partition's pseudo-region (aws-global), no endpoint of Cognito's
			}
			require.NoError(t, config.CheckRegion(r), "partition %s region %s", p.ID, r)
			checked++
		}
		// A new region of the partition: its shape, with a made-up name.
		for _, r := range shapesOf(p.RegionRegex) {
			require.True(t, sdk.MatchString(r), "%s does not generate a region of %s", r, p.RegionRegex)
			require.NoError(t, config.CheckRegion(r), "partition %s: a future region %s", p.ID, r)
		}
	}
	require.Greater(t, checked, 40)
}

// shapesOf makes sample region names for a partition's regionRegex, such as
// ^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$ or ^us\-gov\-\w+\-\d+$: each prefix, a new
// word, a two-digit number.
func shapesOf(regex string) []string {
	body := strings.TrimSuffix(strings.TrimPrefix(regex, "^"), `\-\w+\-\d+$`)
	body = strings.ReplaceAll(body, `\-`, "-")
	var prefixes []string
	if i, j := strings.Index(body, "("), strings.Index(body, ")"); i >= 0 && j > i {
		for _, alt := range strings.Split(body[i+1:j], "|") {
			prefixes = append(prefixes, body[:i]+alt+body[j+1:])
		}
	} else {
		prefixes = []string{body}
	}
	var out []string
	for _, p := range prefixes {
		out = append(out, p+"-southwest-12")
	}
	return out
}
