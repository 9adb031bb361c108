package lambdaesm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// ReportBatchItemFailures as Lambda applies it: an empty answer, null, {} or an empty or
// null list is all succeeded; listed ids fail alone; invalid JSON, an empty, missing or
// unknown itemIdentifier fail the whole batch.
func TestParseResponse(t *testing.T) {
	t.Parallel()
	ids := map[string]bool{"a": true, "b": true}
	for _, tc := range []struct {
		body   string
		failed []string
		whole  bool
	}{
		{``, nil, false},
		{`null`, nil, false},
		{`{}`, nil, false},
		{`{"batchItemFailures":null}`, nil, false},
		{`{"batchItemFailures":[]}`, nil, false},
		{`{"batchItemFailures":[{"itemIdentifier":"b"}]}`, []string{"b"}, false},
		{`{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"b"}]}`, []string{"a", "b"}, false},
		{`{"batchItemFailures":[{"itemIdentifier":""}]}`, nil, true},
		{`{"batchItemFailures":[{}]}`, nil, true},
		{`{"batchItemFailures":[{"itemIdentifier":"zzz"}]}`, nil, true},
		{`{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"zzz"}]}`, nil, true},
		{`not json`, nil, true},
		{`{"batchItemFailures":"a"}`, nil, true},
	} {
		failed, ok := parseResponse([]byte(tc.body), ids)
		require.Equal(t, !tc.whole, ok, tc.body)
		if ok {
			var got []string
			for id := range failed {
				got = append(got, id)
			}
			require.ElementsMatch(t, tc.failed, got, tc.body)
		}
	}
}
