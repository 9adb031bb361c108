package dynamoledger

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-resend/cognito-resend/worker/dynamoledger/attr"
)

// The budget's windows are the table's, not each process's: a campaign with another
// --budget-reset would count its own windows on the same items' neighbours and send a
// budget's worth more the same day (trial 4). The reset they begin at is recorded once,
// in the budget's partition (pk "budget#daily", sk "reset": the same IAM grant as the
// counters, UpdateItem and GetItem), by the first campaign with --daily-budget on the
// table; a process with another reset is refused unless no send is counted in a window
// of the recorded reset that its own current window overlaps (campaign.bindTableReset).
const (
	budgetResetSK  = "reset"
	attrReset      = "budget_reset"
	attrResetSince = "since"
)

// ResetRecord is the reset the table's budget windows begin at ("HH:MM", UTC), and
// since when.
type ResetRecord struct {
	Reset string
	Since time.Time
}

func budgetResetKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: attr.S(BudgetPartition), AttrSK: attr.S(budgetResetSK)}
}

// BindReset returns the table's recorded reset, recording reset first when the table
// has none: one update (if_not_exists), so of two first campaigns one reset wins.
func (b *Budget) BindReset(ctx context.Context, reset string) (ResetRecord, error) {
	var out *dynamodb.UpdateItemOutput
	err := b.l.call.do(ctx, "budget_reset", func(ctx context.Context) error {
		var err error
		out, err = b.l.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(b.l.cfg.Table),
			Key:                      budgetResetKey(),
			UpdateExpression:         aws.String("SET #reset = if_not_exists(#reset, :reset), #since = if_not_exists(#since, :now)"),
			ExpressionAttributeNames: map[string]string{"#reset": attrReset, "#since": attrResetSince},
			ExpressionAttributeValues: map[string]types.AttributeValue{":reset": attr.S(reset),
				":now": attr.S(b.l.clock.Now().UTC().Format(time.RFC3339))},
			ReturnValues: types.ReturnValueAllNew})
		return err
	})
	if err != nil {
		return ResetRecord{}, err
	}
	return resetRecord(out.Attributes), nil
}

// ReadReset is the table's recorded reset (Reset "": none yet), strongly consistent;
// for the dry run and the prompt, which record nothing.
func (b *Budget) ReadReset(ctx context.Context) (ResetRecord, error) {
	var out *dynamodb.GetItemOutput
	err := b.l.call.do(ctx, "budget_reset_read", func(ctx context.Context) error {
		var err error
		out, err = b.l.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(b.l.cfg.Table),
			Key: budgetResetKey(), ConsistentRead: aws.Bool(true)})
		return err
	})
	if err != nil {
		return ResetRecord{}, err
	}
	return resetRecord(out.Item), nil
}

// MoveReset records reset in place of was; false when the record no longer says was
// (another process moved it first).
func (b *Budget) MoveReset(ctx context.Context, was, reset string) (bool, error) {
	err := b.l.call.do(ctx, "budget_reset", func(ctx context.Context) error {
		_, err := b.l.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(b.l.cfg.Table),
			Key:                      budgetResetKey(),
			UpdateExpression:         aws.String("SET #reset = :reset, #since = :now"),
			ConditionExpression:      aws.String("#reset = :was"),
			ExpressionAttributeNames: map[string]string{"#reset": attrReset, "#since": attrResetSince},
			ExpressionAttributeValues: map[string]types.AttributeValue{":reset": attr.S(reset), ":was": attr.S(was),
				":now": attr.S(b.l.clock.Now().UTC().Format(time.RFC3339))}})
		return err
	})
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

func resetRecord(item map[string]types.AttributeValue) ResetRecord {
	var r ResetRecord
	if v, ok := item[attrReset].(*types.AttributeValueMemberS); ok {
		r.Reset = v.Value
	}
	if v, ok := item[attrResetSince].(*types.AttributeValueMemberS); ok {
		r.Since, _ = time.Parse(time.RFC3339, v.Value)
	}
	return r
}
