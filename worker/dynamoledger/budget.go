package dynamoledger

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/budget"
	"github.com/cognito-resend/cognito-resend/worker/dynamoledger/attr"
)

// The daily budget's counters share the table: one item per window, pk = "budget#daily",
// sk = "window#<window start, RFC 3339 UTC>", its count in `spent`. Every campaign and
// replica on the table takes from the same item, so --daily-budget holds for all of
// them together (each with the same --budget-reset).
const (
	// BudgetPartition is the pk of the budget's counters (deploy/iam: LeadingKeys).
	BudgetPartition = "budget#daily"
	budgetSKPrefix  = "window#"
	attrSpent       = "spent"
	// budgetKeep: a window's counter is deleted (TTL) this long after the window ends.
	budgetKeep = 7 * 24 * time.Hour
)

var _ budget.Counter = (*Budget)(nil)

// Budget is the table's budget.Counter. Take is one conditional update (ADD 1 if the
// count is below the limit), decided by DynamoDB: two replicas never both take the last
// send. A Take whose answer is lost may be retried and count twice (the budget errs on
// the side of sending less); a Give is made once and never retried, so it can never give
// back twice.
type Budget struct{ l *Ledger }

// Budget is the daily budget's counter on this ledger's table.
func (l *Ledger) Budget() *Budget { return &Budget{l: l} }

func budgetKey(window time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: attr.S(BudgetPartition),
		AttrSK: attr.S(budgetSKPrefix + window.UTC().Format(time.RFC3339)),
	}
}

// Take adds one send to window's count unless it has reached limit.
// n is the count after the take (UPDATED_NEW), or limit when refused: a refused
// condition returns nothing (and dynalite ignores ReturnValuesOnConditionCheckFailure).
func (b *Budget) Take(ctx context.Context, window time.Time, limit int) (int, bool, error) {
	var out *dynamodb.UpdateItemOutput
	err := b.l.call.do(ctx, "budget_take", func(ctx context.Context) error {
		var err error
		out, err = b.l.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(b.l.cfg.Table),
			Key: budgetKey(window), UpdateExpression: aws.String("ADD #spent :one SET #expires_at = :exp"),
			ConditionExpression:      aws.String("attribute_not_exists(#spent) OR #spent < :limit"),
			ExpressionAttributeNames: map[string]string{"#spent": attrSpent, "#expires_at": AttrExpiresAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": attr.N(1), ":limit": attr.N(int64(limit)),
				":exp": attr.N(window.Add(24*time.Hour + budgetKeep).Unix())},
			ReturnValues: types.ReturnValueUpdatedNew})
		return err
	})
	switch {
	case isConditionFailed(err):
		return limit, false, nil
	case err != nil:
		return 0, false, err
	}
	n, _ := attr.GetN(out.Attributes, attrSpent)
	return int(n), true, nil
}

// Give takes back one send of window, never below 0: one attempt, not retried.
func (b *Budget) Give(ctx context.Context, window time.Time) error {
	err := b.l.call.once(ctx, "budget_give", func(ctx context.Context) error {
		_, err := b.l.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(b.l.cfg.Table),
			Key: budgetKey(window), UpdateExpression: aws.String("ADD #spent :minus"),
			ConditionExpression:       aws.String("#spent > :zero"),
			ExpressionAttributeNames:  map[string]string{"#spent": attrSpent},
			ExpressionAttributeValues: map[string]types.AttributeValue{":minus": attr.N(-1), ":zero": attr.N(0)}})
		return err
	})
	if isConditionFailed(err) {
		return nil // nothing to give back: never below 0
	}
	return err
}

// Spent is window's count (strongly consistent).
func (b *Budget) Spent(ctx context.Context, window time.Time) (int, error) {
	var out *dynamodb.GetItemOutput
	err := b.l.call.do(ctx, "budget_read", func(ctx context.Context) error {
		var err error
		out, err = b.l.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(b.l.cfg.Table),
			Key: budgetKey(window), ConsistentRead: aws.Bool(true)})
		return err
	})
	if err != nil {
		return 0, err
	}
	n, _ := attr.GetN(out.Item, attrSpent)
	return int(n), nil
}
