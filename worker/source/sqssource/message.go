package sqssource

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
)

// Bounds on a queue message body. A body outside them is poison: it goes to the DLQ.
const (
	// MaxMessageBodyBytes is SQS's maximum message size (1 MiB).
	MaxMessageBodyBytes = 1 << 20
	// MaxMetadataKeys bounds clientMetadata's size: it is forwarded to a Lambda trigger.
	MaxMetadataKeys = 50
	// MaxMetadataKeyBytes and MaxMetadataValueBytes bound one clientMetadata entry.
	MaxMetadataKeyBytes   = 256
	MaxMetadataValueBytes = 8 << 10
	// MaxUserContextDataBytes bounds userContextData (EncodedData is a few KB).
	MaxUserContextDataBytes = 64 << 10
)

// ErrPoison marks a message body that is not a job at all (not a username, not JSON of
// the documented shape, a bad SNS envelope). Every ParseMessageBody error wraps it. Such
// a message is reported invalid_input like one whose username is invalid, and goes to
// the dead-letter queue the same way (action.go).
var ErrPoison = errors.New("poison message")

// MessageBody is a parsed queue message.
type MessageBody struct {
	Username        string
	ClientMetadata  map[string]string
	UserContextData string
	// SNS is set when the body came wrapped in an SNS notification envelope.
	SNS bool
	// Invalid, when non-empty, says why Username is not one Cognito accepts (the body is
	// well formed; Username is escaped for the report). Like a poison body, the message is
	// reported invalid_input and dead-lettered.
	Invalid string
}

func poison(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrPoison, fmt.Sprintf(format, args...))
}

// ParseMessageBody parses a queue message body. Accepted forms:
//
//	alice                                             a plain username
//	{"username": "alice", "clientMetadata": {"k": "v"}, "userContextData": "..."}
//	{"Type": "Notification", "Message": "<either of the above>", ...}   (SNS → SQS)
//
// Anything else is poison (an error wrapping ErrPoison): an empty or oversized body, a
// plain body that is not a valid username, JSON of another shape or with values of the
// wrong type, clientMetadata with more than MaxMetadataKeys keys or oversized entries,
// an SNS envelope that is not a Notification or holds another envelope. A JSON body of
// the right shape whose username Cognito would reject parses without error and has
// Invalid set. ParseMessageBody is a pure function.
func ParseMessageBody(body string) (MessageBody, error) {
	return parseBody(body, false)
}

func parseBody(body string, inSNS bool) (MessageBody, error) {
	if len(body) > MaxMessageBodyBytes {
		return MessageBody{}, poison("body is %d bytes, more than %d", len(body), MaxMessageBodyBytes)
	}
	if !utf8.ValidString(body) {
		return MessageBody{}, poison("body is not valid UTF-8")
	}
	trimmed := admit.NormalizeUsername(body)
	if trimmed == "" {
		return MessageBody{}, poison("body is empty")
	}
	switch trimmed[0] {
	case '{':
		return parseJSONBody(trimmed, inSNS)
	case '[':
		return MessageBody{}, poison("body is a JSON array; expected a username or a JSON object")
	}
	if reason := admit.ValidateUsername(trimmed); reason != "" {
		return MessageBody{}, poison("plain body is not a username: %s", reason)
	}
	return MessageBody{Username: trimmed, SNS: inSNS}, nil
}

func parseJSONBody(s string, inSNS bool) (MessageBody, error) {
	// Keys are matched exactly (encoding/json's struct matching is case-insensitive,
	// which would read a {"type": ...} metadata-ish key as an SNS envelope).
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &obj); err != nil {
		return MessageBody{}, poison("body is not a JSON object: %s", jsonReason(err))
	}
	_, hasUser := obj["username"]
	if typ, ok := obj["Type"]; ok && !hasUser {
		if inSNS {
			return MessageBody{}, poison("SNS envelope inside an SNS envelope")
		}
		var t, msg string
		if err := json.Unmarshal(typ, &t); err != nil {
			return MessageBody{}, poison("SNS envelope: Type is not a string")
		}
		if t != "Notification" {
			return MessageBody{}, poison("SNS envelope of Type %q, want Notification", truncate(t, 64))
		}
		raw, ok := obj["Message"]
		if !ok {
			return MessageBody{}, poison("SNS envelope has no Message")
		}
		if err := json.Unmarshal(raw, &msg); err != nil {
			return MessageBody{}, poison("SNS envelope: Message is not a string")
		}
		mb, err := parseBody(msg, true)
		if err != nil {
			return MessageBody{}, fmt.Errorf("%w (inside an SNS envelope)", err)
		}
		return mb, nil
	}

	var mb MessageBody
	mb.SNS = inSNS
	raw, ok := obj["username"]
	if !ok {
		return MessageBody{}, poison("JSON body has no \"username\"")
	}
	var u *string
	if err := json.Unmarshal(raw, &u); err != nil || u == nil {
		return MessageBody{}, poison("\"username\" is not a string")
	}
	mb.Username = admit.NormalizeUsername(*u)
	if reason := admit.ValidateUsername(mb.Username); reason != "" {
		mb.Invalid = reason
		mb.Username = admit.Printable(mb.Username)
	}

	if raw, ok := obj["clientMetadata"]; ok && string(raw) != "null" {
		var md map[string]json.RawMessage
		if err := json.Unmarshal(raw, &md); err != nil {
			return MessageBody{}, poison("\"clientMetadata\" is not an object")
		}
		if len(md) > MaxMetadataKeys {
			return MessageBody{}, poison("\"clientMetadata\" has %d keys, more than %d", len(md), MaxMetadataKeys)
		}
		if len(md) > 0 {
			mb.ClientMetadata = make(map[string]string, len(md))
		}
		for k, rv := range md {
			if k == "" || len(k) > MaxMetadataKeyBytes {
				return MessageBody{}, poison("\"clientMetadata\" key of %d bytes (want 1..%d)", len(k), MaxMetadataKeyBytes)
			}
			var v string
			if err := json.Unmarshal(rv, &v); err != nil {
				return MessageBody{}, poison("\"clientMetadata\".%s is not a string", truncate(k, 64))
			}
			if len(v) > MaxMetadataValueBytes {
				return MessageBody{}, poison("\"clientMetadata\".%s is %d bytes, more than %d", truncate(k, 64), len(v), MaxMetadataValueBytes)
			}
			mb.ClientMetadata[k] = v
		}
	}
	if raw, ok := obj["userContextData"]; ok && string(raw) != "null" {
		var ucd string
		if err := json.Unmarshal(raw, &ucd); err != nil {
			return MessageBody{}, poison("\"userContextData\" is not a string")
		}
		if len(ucd) > MaxUserContextDataBytes {
			return MessageBody{}, poison("\"userContextData\" is %d bytes, more than %d", len(ucd), MaxUserContextDataBytes)
		}
		mb.UserContextData = strings.TrimSpace(ucd)
	}
	return mb, nil
}

// EncodeMessageBody renders a job as the JSON body ParseMessageBody reads back.
func EncodeMessageBody(j job.Job) (string, error) {
	b, err := json.Marshal(struct {
		Username        string            `json:"username"`
		ClientMetadata  map[string]string `json:"clientMetadata,omitempty"`
		UserContextData string            `json:"userContextData,omitempty"`
	}{j.Username, j.ClientMetadata, j.UserContextData})
	return string(b), err
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "a JSON " + te.Value + ", not an object"
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
