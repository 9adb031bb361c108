package records_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/records"
)

func TestGroupCommit(t *testing.T) {
	t.Parallel()
	in := make(chan int, 10)
	for _, v := range []int{1, 2, 3, 4, -5, 6, 7} { // -5 is a barrier
		in <- v
	}
	close(in)
	var groups [][]int
	records.GroupCommit(in, 3, func(v int) bool { return v < 0 }, func(g []int) {
		groups = append(groups, append([]int(nil), g...))
	})
	require.Equal(t, [][]int{{1, 2, 3}, {4, -5}, {6, 7}}, groups, "at most max a group; a barrier ends its group")
}
