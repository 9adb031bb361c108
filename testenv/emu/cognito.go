package emu

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// DemoPassword is the password SignUp gives every user.
const DemoPassword = "Demo-Passw0rd!"

// NewCognitoClient returns a Cognito Identity Provider client for the
// emulator at endpoint, with region us-east-1 and dummy static credentials.
func NewCognitoClient(endpoint string, optFns ...func(*cip.Options)) *cip.Client {
	return cip.New(cip.Options{
		Region:       Region,
		Credentials:  staticCredentials(),
		BaseEndpoint: aws.String(endpoint),
	}, optFns...)
}

// SecretHash computes Cognito's SECRET_HASH:
// Base64(HMAC-SHA256(key=clientSecret, msg=username+clientID)).
func SecretHash(username, clientID, clientSecret string) string {
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// PoolOptions configures NewPool.
type PoolOptions struct {
	// Name of the pool; random if empty.
	Name string
	// WithSecret creates the app client with GenerateSecret.
	WithSecret bool
	// PreventUserExistenceErrors creates the app client with it ENABLED (the console's
	// default): the launcher's ResendConfirmationCode then answers unknown and disabled
	// users with a simulated delivery, as Cognito does.
	PreventUserExistenceErrors bool
	// CaseSensitive, when set, creates the pool with UsernameConfiguration.CaseSensitive;
	// nil creates it without a UsernameConfiguration (case-sensitive, the API's
	// default). cognito-local compares usernames exactly whatever the setting.
	CaseSensitive *bool
}

// Pool is a user pool with one app client, created in an emulator.
type Pool struct {
	ID           string
	ClientID     string
	ClientSecret string // empty unless PoolOptions.WithSecret
	Endpoint     string

	client *cip.Client
}

// NewPool creates a user pool (AutoVerifiedAttributes: email, plain
// usernames) and an app client in the cognito-local at endpoint.
func NewPool(ctx context.Context, endpoint string, opts PoolOptions) (*Pool, error) {
	name := opts.Name
	if name == "" {
		name = "pool-" + randomSuffix()
	}
	c := NewCognitoClient(endpoint)
	in := &cip.CreateUserPoolInput{
		PoolName:               aws.String(name),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
	}
	if opts.CaseSensitive != nil {
		in.UsernameConfiguration = &types.UsernameConfigurationType{CaseSensitive: opts.CaseSensitive}
	}
	up, err := c.CreateUserPool(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("emu: CreateUserPool: %w", err)
	}
	if up.UserPool == nil || up.UserPool.Id == nil {
		return nil, errors.New("emu: CreateUserPool returned no pool id")
	}
	clIn := &cip.CreateUserPoolClientInput{
		UserPoolId:     up.UserPool.Id,
		ClientName:     aws.String(name + "-client"),
		GenerateSecret: opts.WithSecret,
	}
	if opts.PreventUserExistenceErrors {
		clIn.PreventUserExistenceErrors = types.PreventUserExistenceErrorTypesEnabled
	}
	cl, err := c.CreateUserPoolClient(ctx, clIn)
	if err != nil {
		return nil, fmt.Errorf("emu: CreateUserPoolClient: %w", err)
	}
	if cl.UserPoolClient == nil || cl.UserPoolClient.ClientId == nil {
		return nil, errors.New("emu: CreateUserPoolClient returned no client id")
	}
	p := &Pool{
		ID:       *up.UserPool.Id,
		ClientID: *cl.UserPoolClient.ClientId,
		Endpoint: endpoint,
		client:   c,
	}
	if opts.WithSecret {
		p.ClientSecret = aws.ToString(cl.UserPoolClient.ClientSecret)
		if p.ClientSecret == "" {
			return nil, errors.New("emu: CreateUserPoolClient returned no client secret")
		}
	}
	return p, nil
}

// Client returns the SDK client the pool was created with.
func (p *Pool) Client() *cip.Client { return p.client }

// SecretHash returns the SECRET_HASH for username, or nil if the app client
// has no secret.
func (p *Pool) SecretHash(username string) *string {
	if p.ClientSecret == "" {
		return nil
	}
	return aws.String(SecretHash(username, p.ClientID, p.ClientSecret))
}

// SignUp registers an UNCONFIRMED user with the given email (password
// DemoPassword).
func (p *Pool) SignUp(ctx context.Context, username, email string) error {
	_, err := p.client.SignUp(ctx, &cip.SignUpInput{
		ClientId:   aws.String(p.ClientID),
		Username:   aws.String(username),
		Password:   aws.String(DemoPassword),
		SecretHash: p.SecretHash(username),
		UserAttributes: []types.AttributeType{
			{Name: aws.String("email"), Value: aws.String(email)},
		},
	})
	if err != nil {
		return fmt.Errorf("emu: SignUp %q: %w", username, err)
	}
	return nil
}

// Confirm confirms username with AdminConfirmSignUp.
func (p *Pool) Confirm(ctx context.Context, username string) error {
	_, err := p.client.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{
		UserPoolId: aws.String(p.ID),
		Username:   aws.String(username),
	})
	if err != nil {
		return fmt.Errorf("emu: AdminConfirmSignUp %q: %w", username, err)
	}
	return nil
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// AdminCreate creates username with AdminCreateUser (no invitation message):
// status FORCE_CHANGE_PASSWORD, a user who never got a sign-up code.
func (p *Pool) AdminCreate(ctx context.Context, username, email string) error {
	_, err := p.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId:    aws.String(p.ID),
		Username:      aws.String(username),
		MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{
			{Name: aws.String("email"), Value: aws.String(email)},
		},
	})
	if err != nil {
		return fmt.Errorf("emu: AdminCreateUser %q: %w", username, err)
	}
	return nil
}

// Disable disables username with AdminDisableUser.
func (p *Pool) Disable(ctx context.Context, username string) error {
	_, err := p.client.AdminDisableUser(ctx, &cip.AdminDisableUserInput{
		UserPoolId: aws.String(p.ID),
		Username:   aws.String(username),
	})
	if err != nil {
		return fmt.Errorf("emu: AdminDisableUser %q: %w", username, err)
	}
	return nil
}
