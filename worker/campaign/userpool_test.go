package campaign

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

// A CSV campaign's --verify-users lists the pool (the census) unless the CSV has fewer
// rows than the pages that listing could take: then a lookup per user is fewer calls.
func TestFewerLookups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small := filepath.Join(dir, "small.csv")
	require.NoError(t, os.WriteFile(small, []byte("username\na\nb\nc"), 0o600)) // 4 lines, the last without \n
	n, err := countLines(small)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	big := filepath.Join(dir, "big.csv")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat("u\n", 200)), 0o600))

	for _, tt := range []struct {
		csv       string
		poolUsers int
		want      string // "" = the census
	}{
		{small, 600_000, "the CSV has 4 rows, fewer than the up to 10000 ListUsers pages a census of the pool's ~600000 users could take"},
		{small, 240, ""}, // 4 pages: as many as the rows
		{small, 181, ""}, // 4 pages (181/60 rounded up): not fewer
		{big, 600_000, "the CSV has 200 rows, fewer than the up to 10000 ListUsers pages a census of the pool's ~600000 users could take"},
		{big, 12_000, ""}, // 200 pages
		{small, 0, ""},    // the pool's size unknown (or empty)
		{small, -1, ""},   // the pool not read
		{"-", 600_000, ""},
		{filepath.Join(dir, "missing.csv"), 600_000, ""},
	} {
		c := &Campaign{cfg: config.Config{CSV: tt.csv}}
		require.Equal(t, tt.want, c.fewerLookups(userpool.CaseRule{PoolUsers: tt.poolUsers}), "%s, %d users", tt.csv, tt.poolUsers)
	}
}

// The census's pages are counted by one rule (listPages) for the choice and for the
// census's own estimate: with --invitations the census lists two states, a filter each,
// so a pool of one page takes two pages, and a CSV of one row is a lookup.
func TestFewerLookupsCountsListedStates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small := filepath.Join(dir, "small.csv")
	require.NoError(t, os.WriteFile(small, []byte("username\na\nb\nc\n"), 0o600)) // 4 rows
	for _, tt := range []struct {
		invitations bool
		poolUsers   int
		want        string
	}{
		{false, 240, ""}, // 4 pages, one state: as many as the rows
		{true, 240, "the CSV has 4 rows, fewer than the up to 5 ListUsers pages a census of the pool's ~240 users could take"},
		{true, 181, "the CSV has 4 rows, fewer than the up to 5 ListUsers pages a census of the pool's ~181 users could take"},
		{true, 180, ""}, // 3 pages + the second state's: 4
	} {
		c := &Campaign{cfg: config.Config{CSV: small, Invitations: tt.invitations}}
		got := c.fewerLookups(userpool.CaseRule{PoolUsers: tt.poolUsers})
		require.Equal(t, tt.want, got, "invitations %v, %d users", tt.invitations, tt.poolUsers)
		if got != "" {
			require.Contains(t, got, fmt.Sprintf("up to %d ListUsers pages", c.listPages(tt.poolUsers)))
		}
	}
}
