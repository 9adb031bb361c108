package cognito

import (
	"context"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// API is the one Cognito call the resender makes. It is unsigned (no IAM policy grants
// it), which is why the deploy kit's IAM drift test leaves it out.
type API interface {
	ResendConfirmationCode(ctx context.Context, in *cip.ResendConfirmationCodeInput, optFns ...func(*cip.Options)) (*cip.ResendConfirmationCodeOutput, error)
}

var _ API = (*cip.Client)(nil)
