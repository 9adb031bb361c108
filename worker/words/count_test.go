package words

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCount(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1 user", Count(1, "user"))
	require.Equal(t, "0 users", Count(0, "user"))
	require.Equal(t, "2 ListUsers calls", Count(int64(2), "ListUsers call"))
	require.Equal(t, "it", Them(1))
	require.Equal(t, "them", Them(int64(3)))
}
