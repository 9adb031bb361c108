package campaign

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/pacing"
	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

type countingList struct{ n atomic.Int64 }

func (c *countingList) ListUsers(context.Context, *cip.ListUsersInput, ...func(*cip.Options)) (*cip.ListUsersOutput, error) {
	c.n.Add(1)
	return &cip.ListUsersOutput{Users: []types.UserType{{Username: aws.String("una"), UserStatus: types.UserStatusTypeUnconfirmed, Enabled: true}}}, nil
}

// When a campaign reads its pool snapshot back and when it lists the pool again: a new
// campaign adopts a dry run's snapshot up to SnapshotFresh old, --resume always; other
// states or another window are listed again.
func TestPoolSnapshotReuse(t *testing.T) {
	t.Parallel()
	report := filepath.Join(t.TempDir(), "r.csv")
	api := &countingList{}
	clk := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC))
	snapshot := func(cfg config.Config) int64 {
		t.Helper()
		cfg.UserPoolID, cfg.Report = "us-east-1_p", report
		c := &Campaign{cfg: cfg, reportPath: report, clock: clk, log: slog.New(slog.DiscardHandler),
			lister: &userpool.Lister{API: api, PoolID: "us-east-1_p", Clock: clk,
				Limiter: pacing.NewLimiter(pacing.LimiterConfig{Rate: 1000, Burst: 1000, Clock: clk})}}
		before := api.n.Load()
		_, err := c.poolSnapshot(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, c.snapshot.Users)
		return api.n.Load() - before
	}
	require.EqualValues(t, 1, snapshot(config.Config{DryRun: true}), "no snapshot yet: listed")
	clk.Advance(30 * time.Minute)
	require.EqualValues(t, 0, snapshot(config.Config{}), "a new campaign adopts the dry run's half-hour-old listing")
	clk.Advance(31 * time.Minute)
	require.EqualValues(t, 0, snapshot(config.Config{Resume: true}), "--resume reads its snapshot back, however old")
	require.EqualValues(t, 1, snapshot(config.Config{}), "over an hour old: a new campaign lists again")
	require.EqualValues(t, 0, snapshot(config.Config{}), "… and then adopts that one")
	require.EqualValues(t, 1, snapshot(config.Config{Resume: true, CreatedAfter: "72h"}), "another window: listed again")
}
