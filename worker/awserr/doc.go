// Package awserr is the one rule for an AWS call's error (SQS, DynamoDB, and the Cognito
// calls around the resend): Code names it, Transient says whether another attempt may
// fare better. Every AWS caller retries through pacing.Retry on Transient (the clients
// have aws.NopRetryer); ResendConfirmationCode's outcome is cognito.Classify's, which
// reads Code too.
package awserr
