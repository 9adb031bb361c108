package dynamoledger_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/clock"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger"
)

// pagedTable answers Scan with pages of matching items, as DynamoDB does: each page
// names the key to start the next at, the last none.
type pagedTable struct {
	pages [][]string // usernames per page
	calls []*dynamodb.ScanInput
}

func (p *pagedTable) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}

func (p *pagedTable) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	p.calls = append(p.calls, in)
	i := 0
	if in.ExclusiveStartKey != nil {
		i, _ = strconv.Atoi(in.ExclusiveStartKey["pk"].(*types.AttributeValueMemberS).Value)
	}
	out := &dynamodb.ScanOutput{ScannedCount: 10}
	for _, u := range p.pages[i] {
		out.Items = append(out.Items, map[string]types.AttributeValue{"username": &types.AttributeValueMemberS{Value: u},
			"state": &types.AttributeValueMemberS{Value: "UNKNOWN"}})
	}
	if i+1 < len(p.pages) {
		out.LastEvaluatedKey = map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: strconv.Itoa(i + 1)}}
	}
	return out, nil
}

// List follows the pages to the end, or stops at the limit and says more match; every
// page is a strongly consistent, filtered Scan.
func TestListPagesAndLimit(t *testing.T) {
	t.Parallel()
	api := &pagedTable{pages: [][]string{{"a", "b"}, {}, {"c"}}}
	got, err := dynamoledger.List(t.Context(), api, "ledger", "eu-west-1", dynamoledger.ListOptions{State: "unknown", Now: t0, Clock: clock.Real()})
	require.NoError(t, err)
	var names []string
	for _, r := range got.Records {
		names = append(names, r.Username)
	}
	require.Equal(t, []string{"a", "b", "c"}, names, "an empty page in the middle is not the end")
	require.False(t, got.More)
	require.Equal(t, 30, got.Scanned)
	require.Len(t, api.calls, 3)
	for _, in := range api.calls {
		require.True(t, aws.ToBool(in.ConsistentRead))
		require.Equal(t, "begins_with(#pk, :user) AND (#state = :unknown OR (#state = :in_progress AND #lease_until < :now))",
			aws.ToString(in.FilterExpression))
	}

	api = &pagedTable{pages: [][]string{{"a", "b"}, {"c"}, {"d"}}}
	got, err = dynamoledger.List(t.Context(), api, "ledger", "eu-west-1", dynamoledger.ListOptions{State: "failed", Campaign: "spring", Limit: 2, Now: t0, Clock: clock.Real()})
	require.NoError(t, err)
	require.Len(t, got.Records, 2)
	require.True(t, got.More, "c matches beyond the limit")
	require.Len(t, api.calls, 2, "the scan stops once more than the limit matched")
	require.Equal(t, "begins_with(#pk, :user) AND #outcome = :outcome AND #campaign = :campaign", aws.ToString(api.calls[0].FilterExpression))
}

func TestValidListState(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"sent", "unknown", "in_progress", "released", "failed", "limit_exceeded", "user_not_found"} {
		require.Empty(t, dynamoledger.ValidListState(ok), ok)
	}
	for _, bad := range []string{"", "SENT", "lost", "recently_sent", "duplicate"} {
		require.NotEmpty(t, dynamoledger.ValidListState(bad), fmt.Sprintf("%q", bad))
	}
}
