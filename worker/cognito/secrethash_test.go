package cognito_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/cognito"
)

func TestSecretHash(t *testing.T) {
	t.Parallel()

	require.Equal(t, "kOPeHzvKtscBvBM4zlIffwOT074cplXWBq9MCfoDa4k=",
		cognito.SecretHash([]byte("s3cr3t"), "alice", "client123"))
	// Username and client id are concatenated in that order, and both matter.
	require.NotEqual(t, cognito.SecretHash([]byte("s3cr3t"), "alice", "client123"),
		cognito.SecretHash([]byte("s3cr3t"), "client123", "alice"))
	require.NotEqual(t, cognito.SecretHash([]byte("s3cr3t"), "alice", "client123"),
		cognito.SecretHash([]byte("s3cr3T"), "alice", "client123"))
}
