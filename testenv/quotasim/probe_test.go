package quotasim

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/stretchr/testify/require"
)

// What docs/queue-mode.md says of a queue worker's probe (a ResendConfirmationCode with
// an empty username, as the SDK sends it): the simulator counts it in its top-level
// per_user under "", and in per_op's calls but not per_op's per_user, which counts only
// calls that name a user (trial 4, finding 9: the docs said per_user without saying which).
func TestEmptyUsernameCounted(t *testing.T) {
	t.Parallel()
	_, srv := newSimServer(t, Config{Clock: newFakeClock()})
	c := sdkClient(srv.URL, srv.Client())
	_, _ = c.ResendConfirmationCode(context.Background(), &cip.ResendConfirmationCodeInput{
		ClientId: aws.String("c"), Username: aws.String("")})
	resp, err := srv.Client().Get(srv.URL + "/__sim/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var st struct {
		Calls   int64                     `json:"calls"`
		PerUser map[string]map[string]any `json:"per_user"`
		PerOp   map[string]struct {
			Calls   int64            `json:"calls"`
			PerUser map[string]int64 `json:"per_user"`
		} `json:"per_op"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	require.EqualValues(t, 1, st.Calls)
	require.Contains(t, st.PerUser, "", "the top-level per_user counts it under \"\"")
	require.EqualValues(t, 1, st.PerOp["ResendConfirmationCode"].Calls)
	require.NotContains(t, st.PerOp["ResendConfirmationCode"].PerUser, "", "per_op's per_user names users only")
}
