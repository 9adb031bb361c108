// Package attr builds and reads the attribute values of the ledger table's items: the
// claim records (package dynamoledger) and the fleet's heartbeat records (package
// fleet) share the table and these encodings — strings, integers, and times as Unix
// milliseconds.
package attr

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// S is a string attribute.
func S(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// N is an integer attribute.
func N(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// F is a number attribute holding a float.
func F(v float64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatFloat(v, 'f', -1, 64)}
}

// Ms is a time as Unix milliseconds.
func Ms(t time.Time) types.AttributeValue { return N(t.UnixMilli()) }

// GetS reads a string attribute ("" when absent or of another type).
func GetS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// GetN reads an integer attribute; false when absent, of another type or not an integer.
func GetN(item map[string]types.AttributeValue, name string) (int64, bool) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(v.Value, 10, 64)
	return i, err == nil
}

// GetF reads a number attribute as a float (0 when absent or unreadable).
func GetF(item map[string]types.AttributeValue, name string) float64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		f, _ := strconv.ParseFloat(v.Value, 64)
		return f
	}
	return 0
}

// GetMs reads a time written by Ms, in UTC (the zero time when absent or unreadable).
func GetMs(item map[string]types.AttributeValue, name string) time.Time {
	if v, ok := GetN(item, name); ok {
		return time.UnixMilli(v).UTC()
	}
	return time.Time{}
}
