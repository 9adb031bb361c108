package sqssource

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/cognito-resend/cognito-resend/worker/admit"
	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/stretchr/testify/require"
)

// TestHostileMessageBodies: every committed hostile body parses to a job, an
// invalid_input job, or poison — never a panic, never an unexplained state.
func TestHostileMessageBodies(t *testing.T) {
	t.Parallel()
	want := map[string]string{ // file → "ok:<username>", "invalid", or "poison"
		"plain.txt": "ok:alice", "json.txt": "ok:bob", "sns.txt": "ok:carol",
		"sns_nested.txt": "poison", "truncated_json.txt": "poison", "wrong_types.txt": "poison",
		"metadata_not_strings.txt": "poison", "huge_metadata.txt": "poison", "empty.txt": "poison",
		"whitespace.txt": "poison", "array.txt": "poison", "null.txt": "ok:null",
		"sns_not_notification.txt": "poison", "invalid_username_json.txt": "invalid",
		"control_chars.txt": "poison", "unknown_fields.txt": "ok:ivy",
	}
	files, err := filepath.Glob("testdata/hostile-bodies/*.txt")
	require.NoError(t, err)
	require.Len(t, files, len(want))
	for _, p := range files {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			mb, err := ParseMessageBody(string(b))
			switch w := want[name]; {
			case w == "poison":
				require.ErrorIs(t, err, ErrPoison)
			case w == "invalid":
				require.NoError(t, err)
				require.NotEmpty(t, mb.Invalid)
			default:
				require.NoError(t, err)
				require.Empty(t, mb.Invalid)
				require.Equal(t, w[len("ok:"):], mb.Username)
			}
		})
	}
}

// FuzzMessageBodyRoundTrip: no panic; errors are poison; an accepted body either names a
// username Cognito accepts or says why not; and what the producer encodes, the
// consumer parses back unchanged.
func FuzzMessageBodyRoundTrip(f *testing.F) {
	files, _ := filepath.Glob("testdata/hostile-bodies/*.txt")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, body string) {
		mb, err := ParseMessageBody(body)
		if err != nil {
			if !errors.Is(err, ErrPoison) {
				t.Fatalf("error not poison: %v", err)
			}
			return
		}
		if mb.Invalid != "" {
			return
		}
		if reason := admit.ValidateUsername(mb.Username); reason != "" {
			t.Fatalf("accepted %q: %s", mb.Username, reason)
		}
		enc, err := EncodeMessageBody(job.Job{Username: mb.Username, ClientMetadata: mb.ClientMetadata, UserContextData: mb.UserContextData})
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		back, err := ParseMessageBody(enc)
		if err != nil || back.Username != mb.Username || back.UserContextData != mb.UserContextData ||
			!maps.Equal(back.ClientMetadata, mb.ClientMetadata) {
			t.Fatalf("round trip of %q: %+v, %v", body, back, err)
		}
	})
}
