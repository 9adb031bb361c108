package campaign

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRegionFromQueueURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://sqs.eu-west-1.amazonaws.com/123456789012/q":        "eu-west-1",
		"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q":    "cn-north-1",
		"https://us-east-2.queue.amazonaws.com/123456789012/q.fifo": "us-east-2",
		"http://127.0.0.1:9324/000000000000/q":                      "",
		"::not a url":                                               "",
	} {
		require.Equal(t, want, regionFromQueueURL(in), in)
	}
}
