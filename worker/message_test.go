package worker_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker"
)

func snsWrap(msg string) string {
	b, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "x", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": msg})
	return string(b)
}

func TestParseMessageBody(t *testing.T) {
	t.Parallel()
	manyKeys := map[string]string{}
	for i := range worker.MaxMetadataKeys + 1 {
		manyKeys[fmt.Sprint("k", i)] = "v"
	}
	many, _ := json.Marshal(map[string]any{"username": "ann", "clientMetadata": manyKeys})
	huge, _ := json.Marshal(map[string]any{"username": "ann", "clientMetadata": map[string]string{"k": strings.Repeat("v", worker.MaxMetadataValueBytes+1)}})
	cases := []struct {
		name   string
		body   string
		want   worker.MessageBody
		poison string // substring of the error; "" = no error
	}{
		{"plain", "alice", worker.MessageBody{Username: "alice"}, ""},
		{"plain trimmed", "  alice\r\n", worker.MessageBody{Username: "alice"}, ""},
		{"json", `{"username":"bob","clientMetadata":{"campaign":"spring"},"userContextData":"ctx"}`,
			worker.MessageBody{Username: "bob", ClientMetadata: map[string]string{"campaign": "spring"}, UserContextData: "ctx"}, ""},
		{"json nulls", `{"username":"bob","clientMetadata":null,"userContextData":null}`, worker.MessageBody{Username: "bob"}, ""},
		{"json unknown keys ignored", `{"username":"bob","extra":[1,2]}`, worker.MessageBody{Username: "bob"}, ""},
		{"json lowercase type key is not SNS", `{"username":"bob","type":"x"}`, worker.MessageBody{Username: "bob"}, ""},
		{"json invalid username", `{"username":"bad name"}`,
			worker.MessageBody{Username: "bad name", Invalid: "username has a disallowed character U+0020 at byte 3"}, ""},
		{"json empty username", `{"username":""}`, worker.MessageBody{Invalid: "username is empty"}, ""},
		{"sns plain", snsWrap("carol"), worker.MessageBody{Username: "carol", SNS: true}, ""},
		{"sns json", snsWrap(`{"username":"dan","clientMetadata":{"a":"b"}}`),
			worker.MessageBody{Username: "dan", ClientMetadata: map[string]string{"a": "b"}, SNS: true}, ""},
		{"empty", "  \n", worker.MessageBody{}, "empty"},
		{"plain with space", "hello world", worker.MessageBody{}, "not a username"},
		{"truncated json", `{"username":"bo`, worker.MessageBody{}, "not a JSON object"},
		{"trailing data", `{"username":"bob"} x`, worker.MessageBody{}, "not a JSON object"},
		{"array", `["bob"]`, worker.MessageBody{}, "array"},
		{"no username", `{"user":"bob"}`, worker.MessageBody{}, `no "username"`},
		{"username number", `{"username":42}`, worker.MessageBody{}, "not a string"},
		{"username null", `{"username":null}`, worker.MessageBody{}, "not a string"},
		{"metadata not object", `{"username":"bob","clientMetadata":"x"}`, worker.MessageBody{}, "not an object"},
		{"metadata value number", `{"username":"bob","clientMetadata":{"a":1}}`, worker.MessageBody{}, "not a string"},
		{"metadata too many keys", string(many), worker.MessageBody{}, "more than 50"},
		{"metadata huge value", string(huge), worker.MessageBody{}, "bytes, more than"},
		{"ucd not string", `{"username":"bob","userContextData":{}}`, worker.MessageBody{}, "not a string"},
		{"sns nested", snsWrap(snsWrap("eve")), worker.MessageBody{}, "SNS envelope inside an SNS envelope"},
		{"sns wrong type", `{"Type":"SubscriptionConfirmation","Message":"eve"}`, worker.MessageBody{}, "want Notification"},
		{"sns no message", `{"Type":"Notification"}`, worker.MessageBody{}, "no Message"},
		{"sns message not string", `{"Type":"Notification","Message":{"username":"eve"}}`, worker.MessageBody{}, "Message is not a string"},
		{"sns poison inside", snsWrap("two words"), worker.MessageBody{}, "inside an SNS envelope"},
		{"too big", strings.Repeat("a", worker.MaxMessageBodyBytes+1), worker.MessageBody{}, "more than"},
		{"invalid utf8", "ann\xff", worker.MessageBody{}, "UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := worker.ParseMessageBody(tc.body)
			if tc.poison != "" {
				require.ErrorIs(t, err, worker.ErrPoison)
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
	j := worker.Job{Username: "zoë", ClientMetadata: map[string]string{"k": "v"}, UserContextData: "ctx"}
	b, err := worker.EncodeMessageBody(j)
	require.NoError(t, err)
	got, err := worker.ParseMessageBody(b)
	require.NoError(t, err)
	require.Equal(t, worker.MessageBody{Username: "zoë", ClientMetadata: map[string]string{"k": "v"}, UserContextData: "ctx"}, got)
}

func FuzzParseMessageBody(f *testing.F) {
	for _, s := range []string{"alice", `{"username":"bob"}`, snsWrap("x"), snsWrap(snsWrap("y")), `{"Type":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		mb, err := worker.ParseMessageBody(body)
		if err != nil {
			require.ErrorIs(t, err, worker.ErrPoison)
			return
		}
		if mb.Invalid == "" {
			require.Empty(t, worker.ValidateUsername(mb.Username))
		}
		require.LessOrEqual(t, len(mb.ClientMetadata), worker.MaxMetadataKeys)
	})
}
