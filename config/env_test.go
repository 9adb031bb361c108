package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/config"
)

func TestCheckEnv(t *testing.T) {
	known := []string{"COGNITO_RESEND_RATE", "COGNITO_RESEND_WORKERS", "COGNITO_RESEND_CLIENT_SECRET_FILE", "COGNITO_RESEND_LEDGER_TABLE"}
	assert.NoError(t, config.CheckEnv([]string{"COGNITO_RESEND_RATE=1", "PATH=/bin", "COGNITO_CLIENT_ID=x", "COGNITO_RESEND_TESTENV_DIR=/t"}, known))

	err := config.CheckEnv([]string{"COGNITO_RESEND_RATTE=1"}, known)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "COGNITO_RESEND_RATTE")
	assert.Contains(t, err.Error(), "did you mean COGNITO_RESEND_RATE?")

	err = config.CheckEnv([]string{"COGNITO_RESEND_CLIENT_SECRET=s3cr3t"}, known)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the client secret is COGNITO_CLIENT_SECRET")
	assert.NotContains(t, err.Error(), "s3cr3t")

	err = config.CheckEnv([]string{"COGNITO_RESEND_ZZZ=1", "COGNITO_RESEND_WORKRES=2"}, known)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "COGNITO_RESEND_WORKRES")
	assert.Contains(t, err.Error(), "did you mean COGNITO_RESEND_WORKERS?")
	assert.Contains(t, err.Error(), "and 1 more: COGNITO_RESEND_ZZZ")
}
