package sqssource_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/source/sqssource"
)

func snsWrap(msg string) string {
	b, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "x", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": msg})
	return string(b)
}

func TestParseMessageBody(t *testing.T) {
	t.Parallel()
	manyKeys := map[string]string{}
	for i := range sqssource.MaxMetadataKeys + 1 {
		manyKeys[fmt.Sprint("k", i)] = "v"
	}
	many, _ := json.Marshal(map[string]any{"username": "ann", "clientMetadata": manyKeys})
	huge, _ := json.Marshal(map[string]any{"username": "ann", "clientMetadata": map[string]string{"k": strings.Repeat("v", sqssource.MaxMetadataValueBytes+1)}})
	cases := []struct {
		name   string
		body   string
		want   sqssource.MessageBody
		poison string // substring of the error; "" = no error
	}{
		{"plain", "alice", sqssource.MessageBody{Username: "alice"}, ""},
		{"plain trimmed", "  alice\r\n", sqssource.MessageBody{Username: "alice"}, ""},
		{"json", `{"username":"bob","clientMetadata":{"campaign":"spring"},"userContextData":"ctx"}`,
			sqssource.MessageBody{Username: "bob", ClientMetadata: map[string]string{"campaign": "spring"}, UserContextData: "ctx"}, ""},
		{"json nulls", `{"username":"bob","clientMetadata":null,"userContextData":null}`, sqssource.MessageBody{Username: "bob"}, ""},
		{"json unknown keys ignored", `{"username":"bob","extra":[1,2]}`, sqssource.MessageBody{Username: "bob"}, ""},
		{"json lowercase type key is not SNS", `{"username":"bob","type":"x"}`, sqssource.MessageBody{Username: "bob"}, ""},
		{"json invalid username", `{"username":"bad name"}`,
			sqssource.MessageBody{Username: "bad name", Invalid: "username has a disallowed character U+0020 at byte 3"}, ""},
		{"json empty username", `{"username":""}`, sqssource.MessageBody{Invalid: "username is empty"}, ""},
		{"sns plain", snsWrap("carol"), sqssource.MessageBody{Username: "carol", SNS: true}, ""},
		{"sns json", snsWrap(`{"username":"dan","clientMetadata":{"a":"b"}}`),
			sqssource.MessageBody{Username: "dan", ClientMetadata: map[string]string{"a": "b"}, SNS: true}, ""},
		{"empty", "  \n", sqssource.MessageBody{}, "empty"},
		{"plain with space", "hello world", sqssource.MessageBody{}, "not a username"},
		{"truncated json", `{"username":"bo`, sqssource.MessageBody{}, "not a JSON object"},
		{"trailing data", `{"username":"bob"} x`, sqssource.MessageBody{}, "not a JSON object"},
		{"array", `["bob"]`, sqssource.MessageBody{}, "array"},
		{"no username", `{"user":"bob"}`, sqssource.MessageBody{}, `no "username"`},
		{"username number", `{"username":42}`, sqssource.MessageBody{}, "not a string"},
		{"username null", `{"username":null}`, sqssource.MessageBody{}, "not a string"},
		{"metadata not object", `{"username":"bob","clientMetadata":"x"}`, sqssource.MessageBody{}, "not an object"},
		{"metadata value number", `{"username":"bob","clientMetadata":{"a":1}}`, sqssource.MessageBody{}, "not a string"},
		{"metadata too many keys", string(many), sqssource.MessageBody{}, "more than 50"},
		{"metadata huge value", string(huge), sqssource.MessageBody{}, "bytes, more than"},
		{"ucd not string", `{"username":"bob","userContextData":{}}`, sqssource.MessageBody{}, "not a string"},
		{"sns nested", snsWrap(snsWrap("eve")), sqssource.MessageBody{}, "SNS envelope inside an SNS envelope"},
		{"sns wrong type", `{"Type":"SubscriptionConfirmation","Message":"eve"}`, sqssource.MessageBody{}, "want Notification"},
		{"sns no message", `{"Type":"Notification"}`, sqssource.MessageBody{}, "no Message"},
		{"sns message not string", `{"Type":"Notification","Message":{"username":"eve"}}`, sqssource.MessageBody{}, "Message is not a string"},
		{"sns poison inside", snsWrap("two words"), sqssource.MessageBody{}, "inside an SNS envelope"},
		{"too big", strings.Repeat("a", sqssource.MaxMessageBodyBytes+1), sqssource.MessageBody{}, "more than"},
		{"invalid utf8", "ann\xff", sqssource.MessageBody{}, "UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := sqssource.ParseMessageBody(tc.body)
			if tc.poison != "" {
				require.ErrorIs(t, err, sqssource.ErrPoison)
				require.Contains(t, err.Error(), tc.poison)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestEncodeMessageBodyRoundTrip(t *testing.T) {
	t.Parallel()
	j := job.Job{Username: "zoë", ClientMetadata: map[string]string{"k": "v"}, UserContextData: "ctx"}
	b, err := sqssource.EncodeMessageBody(j)
	require.NoError(t, err)
	got, err := sqssource.ParseMessageBody(b)
	require.NoError(t, err)
	require.Equal(t, sqssource.MessageBody{Username: "zoë", ClientMetadata: map[string]string{"k": "v"}, UserContextData: "ctx"}, got)
}

func FuzzParseMessageBody(f *testing.F) {
	for _, s := range []string{"alice", `{"username":"bob"}`, snsWrap("x"), snsWrap(snsWrap("y")), `{"Type":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		mb, err := sqssource.ParseMessageBody(body)
		if err != nil {
			require.ErrorIs(t, err, sqssource.ErrPoison)
			return
		}
		if mb.Invalid == "" {
			require.Empty(t, admit.ValidateUsername(mb.Username))
		}
		require.LessOrEqual(t, len(mb.ClientMetadata), sqssource.MaxMetadataKeys)
	})
}
