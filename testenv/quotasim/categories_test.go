package quotasim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The reads the tool makes of the pool have quotas of their own: UserList (ListUsers,
// 30/s) and UserRead (AdminGetUser, 120/s), each a bucket apart from the resend's; and
// every call is counted per operation, AdminGetUser per user.
func TestCategoryBucketsAndPerOpCounts(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	sim, srv := newSimServer(t, Config{Rate: 1, Burst: 1, Clock: clk})
	c := srv.Client()
	for i := range 31 {
		want := 200
		if i == 30 {
			want = 400 // the 31st ListUsers within the second: UserList is 30/s
		}
		r := post(t, c, srv.URL, "ListUsers", "")
		require.Equal(t, want, r.status, "ListUsers %d", i+1)
	}
	require.Equal(t, 200, post(t, c, srv.URL, "ResendConfirmationCode", "a").status, "the resend's own bucket is untouched")
	for i := range 121 {
		want := 200
		if i == 120 {
			want = 400
		}
		require.Equal(t, want, post(t, c, srv.URL, "AdminGetUser", []string{"a", "b"}[i%2]).status, "AdminGetUser %d", i+1)
	}
	clk.Advance(time.Second)
	require.Equal(t, 200, post(t, c, srv.URL, "ListUsers", "").status, "refilled after a second")

	st := sim.Stats()
	require.Equal(t, OpStats{Calls: 32, Throttled: 1}, st.Op("ListUsers"))
	require.Equal(t, int64(121), st.Op("AdminGetUser").Calls)
	require.Equal(t, int64(1), st.Op("AdminGetUser").Throttled)
	require.Equal(t, map[string]int64{"a": 61, "b": 60}, st.Op("AdminGetUser").PerUser)
	require.Equal(t, []string{"a", "b"}, st.OpUsers("AdminGetUser"))
	require.Equal(t, int64(1), st.Op("ResendConfirmationCode").Calls, "the limited target is counted per op too")
	require.Zero(t, st.Op("AdminCreateUser").Calls)

	sim.Reset()
	require.Empty(t, sim.Stats().PerOp)
	require.Equal(t, 200, post(t, c, srv.URL, "ListUsers", "").status, "Reset refills the category buckets")
}

// --invitations' AdminCreateUser draws on the UserCreation bucket (50/s), apart from the
// resend's, and is counted per user.
func TestUserCreationCategory(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	sim, srv := newSimServer(t, Config{Rate: 1, Burst: 1, Clock: clk})
	c := srv.Client()
	for i := range 51 {
		want := 200
		if i == 50 {
			want = 400 // the 51st within the second: UserCreation is 50/s
		}
		require.Equal(t, want, post(t, c, srv.URL, "AdminCreateUser", []string{"x", "y"}[i%2]).status, "AdminCreateUser %d", i+1)
	}
	require.Equal(t, 200, post(t, c, srv.URL, "ResendConfirmationCode", "a").status, "the resend's own bucket is untouched")
	require.Equal(t, 400, post(t, c, srv.URL, "SignUp", "z").status, "the application's sign-ups share the bucket")
	clk.Advance(time.Second)
	require.Equal(t, 200, post(t, c, srv.URL, "AdminCreateUser", "x").status, "refilled after a second")
	st := sim.Stats()
	require.Equal(t, map[string]int64{"x": 27, "y": 25}, st.Op("AdminCreateUser").PerUser)
	require.Equal(t, int64(1), st.Op("AdminCreateUser").Throttled)
}
